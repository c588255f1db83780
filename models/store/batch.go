package store

import (
	"context"
	"time"

	"github.com/treue/treue/models"
)

// The loaders below read what processing needs for several customers at once:
// the inbox processor loads the customers of a whole batch in a handful of
// queries instead of a handful per delivery. Each returns a map by customer
// id, in the order the single-customer reads use.

// ProfilesOf loads the stored profiles of customers.
func (s *Store) ProfilesOf(ctx context.Context, ids []int64) (map[int64]*models.Profile, error) {
	out := make(map[int64]*models.Profile, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []customerRow
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, translate("profiles", err)
	}
	for i := range rows {
		p, err := decodeProfile(&rows[i])
		if err != nil {
			return nil, err
		}
		out[rows[i].ID] = p
	}
	return out, nil
}

// EventsOf loads the journeys of customers, each in source-time order.
func (s *Store) EventsOf(ctx context.Context, ids []int64) (map[int64][]EventRecord, error) {
	out := make(map[int64][]EventRecord, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rs []EventRecord
	if err := s.db.WithContext(ctx).Where("customer_id IN ?", ids).Order("customer_id, occurred_at, id").Find(&rs).Error; err != nil {
		return nil, translate("customer events", err)
	}
	for _, r := range rs {
		out[r.CustomerID] = append(out[r.CustomerID], r)
	}
	return out, nil
}

// OptOutsOf loads the opt-outs of customers, by category.
func (s *Store) OptOutsOf(ctx context.Context, ids []int64) (map[int64][]OptOut, error) {
	out := make(map[int64][]OptOut, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []optOutRow
	if err := s.db.WithContext(ctx).Where("customer_id IN ?", ids).Order("customer_id, category").Find(&rows).Error; err != nil {
		return nil, translate("opt-outs", err)
	}
	for _, r := range rows {
		out[r.CustomerID] = append(out[r.CustomerID], OptOut{r.Category, r.Source, r.CreatedAt})
	}
	return out, nil
}

// ActionsOf loads every action of customers, by due time.
func (s *Store) ActionsOf(ctx context.Context, ids []int64) (map[int64][]models.Action, error) {
	out := make(map[int64][]models.Action, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []ActionRow
	if err := s.db.WithContext(ctx).Where("customer_id IN ?", ids).Order("customer_id, due_at, id").Find(&rows).Error; err != nil {
		return nil, translate("customer actions", err)
	}
	for i := range rows {
		a, err := rows[i].Action()
		if err != nil {
			return nil, err
		}
		out[a.CustomerID] = append(out[a.CustomerID], a)
	}
	return out, nil
}

// LedgerEntry is one booking of a customer's points, with when the event
// whose action booked it happened (nil when that is not known).
type LedgerEntry struct {
	CustomerID int64
	ActionID   int64
	Delta      int64
	EventAt    *time.Time
}

// LedgerOf loads the points ledgers of customers.
func (s *Store) LedgerOf(ctx context.Context, ids []int64) (map[int64][]LedgerEntry, error) {
	out := make(map[int64][]LedgerEntry, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		CustomerID int64
		ActionID   int64
		Delta      int64
		OccurredAt *time.Time
	}
	err := s.db.WithContext(ctx).Table("points_ledger").
		Select("points_ledger.customer_id, points_ledger.action_id, points_ledger.delta, events.occurred_at").
		Joins("LEFT JOIN actions ON actions.id = points_ledger.action_id").
		Joins("LEFT JOIN events ON events.id = actions.trigger_event_id").
		Where("points_ledger.customer_id IN ?", ids).Order("points_ledger.id").Scan(&rows).Error
	if err != nil {
		return nil, translate("points ledger", err)
	}
	for _, r := range rows {
		out[r.CustomerID] = append(out[r.CustomerID], LedgerEntry{r.CustomerID, r.ActionID, r.Delta, r.OccurredAt})
	}
	return out, nil
}
