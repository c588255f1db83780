package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// backfill returns what fills in, after migration version's statements and
// in its transaction, the data no statement can compute alike on MySQL,
// MariaDB and SQLite; nil for most versions.
func backfill(version int) func(ctx context.Context, tx *gorm.DB) error {
	if version == 10 {
		return backfillEventColumns
	}
	return nil
}

// backfillBatch is how many events a backfill statement updates.
const backfillBatch = 1000

// backfillEventColumns fills the report columns of migration 10 for the
// events stored before it, with Describe, which every new event goes
// through: one definition of what the columns hold. The JSON functions of
// the databases disagree (JSON_VALUE gives 'true' on MySQL and 1 on
// MariaDB; time zones in an RFC 3339 time are not read alike), Go does not.
func backfillEventColumns(ctx context.Context, tx *gorm.DB) error {
	var last int64
	for {
		var rs []EventRecord
		err := tx.WithContext(ctx).Select("id, type, occurred_at, data").Where("id > ?", last).Order("id").Limit(backfillBatch).Find(&rs).Error
		if err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		if len(rs) == 0 {
			return nil
		}
		last = rs[len(rs)-1].ID
		var todo []*EventRecord
		for i := range rs {
			r := &rs[i]
			e, err := r.Event()
			if err != nil {
				return err
			}
			r.Describe(&e)
			if r.Amount != "" || r.Currency != "" || r.Coupon != "" || r.TestOrder || r.PlacedAt != nil {
				todo = append(todo, r)
			}
		}
		if err := updateEventColumns(ctx, tx, todo); err != nil {
			return err
		}
	}
}

// updateEventColumns writes the report columns of rs in one statement.
func updateEventColumns(ctx context.Context, tx *gorm.DB, rs []*EventRecord) error {
	if len(rs) == 0 {
		return nil
	}
	var sb strings.Builder
	var args []any
	sb.WriteString("UPDATE events SET ")
	cols := []struct {
		name  string
		value func(*EventRecord) any
	}{
		{"amount", func(r *EventRecord) any { return r.Amount }},
		{"currency", func(r *EventRecord) any { return r.Currency }},
		{"coupon", func(r *EventRecord) any { return r.Coupon }},
		{"test_order", func(r *EventRecord) any { return r.TestOrder }},
		{"placed_at", func(r *EventRecord) any { return r.PlacedAt }},
	}
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	for c, col := range cols {
		if c > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(col.name + " = CASE id")
		for _, r := range rs {
			sb.WriteString(" WHEN ? THEN ?")
			args = append(args, r.ID, col.value(r))
		}
		sb.WriteString(" END")
	}
	sb.WriteString(" WHERE id IN ?")
	args = append(args, ids)
	if err := tx.WithContext(ctx).Exec(sb.String(), args...).Error; err != nil {
		return fmt.Errorf("update events: %w", err)
	}
	return nil
}
