package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/treue/treue/models"
)

// CustomerSummary is one search hit.
type CustomerSummary struct {
	ID          int64
	PublicID    string
	Stage       string
	OrderCount  int
	LastOrderAt *time.Time
	CreatedAt   time.Time
	Identities  []models.Identity
}

// FindCustomers finds a shop's customers by e-mail (case-insensitive, exact),
// customer number or the shop's customer id.
func (s *Store) FindCustomers(ctx context.Context, shopID int64, q string) ([]CustomerSummary, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&identityRow{}).Distinct("customer_id").
		Where("shop_id = ? AND ((kind = ? AND value = ?) OR (kind IN ? AND value = ?))",
			shopID, models.IdentityEmail, models.NormalizeEmail(q), []string{models.IdentityID, models.IdentityNumber}, q).
		Limit(50).Pluck("customer_id", &ids).Error
	if err != nil {
		return nil, translate("find customers", err)
	}
	if len(ids) == 0 {
		return []CustomerSummary{}, nil
	}
	var rows []customerRow
	if err := s.db.WithContext(ctx).Where("shop_id = ? AND id IN ?", shopID, ids).Order("id").Find(&rows).Error; err != nil {
		return nil, translate("find customers", err)
	}
	var idRows []identityRow
	if err := s.db.WithContext(ctx).Where("shop_id = ? AND customer_id IN ?", shopID, ids).Order("kind, value").Find(&idRows).Error; err != nil {
		return nil, translate("find customers", err)
	}
	out := make([]CustomerSummary, 0, len(rows))
	for _, r := range rows {
		cs := CustomerSummary{ID: r.ID, PublicID: r.PublicID, Stage: r.Stage, OrderCount: r.OrderCount, LastOrderAt: r.LastOrderAt, CreatedAt: r.CreatedAt}
		for _, ir := range idRows {
			if ir.CustomerID == r.ID {
				cs.Identities = append(cs.Identities, models.Identity{Kind: ir.Kind, Value: ir.Value})
			}
		}
		out = append(out, cs)
	}
	return out, nil
}

// CustomerIDByPublicID finds a shop's customer by its public id, without
// reading the profile: what a timeline page needs.
func (s *Store) CustomerIDByPublicID(ctx context.Context, shopID int64, publicID string) (int64, error) {
	rows, err := s.query(ctx, "customer", "SELECT id FROM customers WHERE shop_id = ? AND public_id = ?", shopID, publicID)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var id int64
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, translate("customer", err)
		}
		return 0, fmt.Errorf("store: customer: %w", models.ErrNotFound)
	}
	if err := rows.Scan(&id); err != nil {
		return 0, translate("customer", err)
	}
	return id, nil
}

// CustomerByPublicID loads a shop's customer profile by its public id.
func (s *Store) CustomerByPublicID(ctx context.Context, shopID int64, publicID string) (*models.Profile, time.Time, error) {
	var c customerRow
	if err := s.db.WithContext(ctx).Where("shop_id = ? AND public_id = ?", shopID, publicID).Take(&c).Error; err != nil {
		return nil, time.Time{}, translate("customer", err)
	}
	p, err := decodeProfile(&c)
	return p, c.CreatedAt, err
}

// TimelineKind separates the two kinds of timeline entries.
type TimelineKind int

// Timeline kinds; at equal times actions sort before events (newest first).
const (
	KindEvent  TimelineKind = 0
	KindAction TimelineKind = 1
)

// Cursor is a position in a timeline: entries strictly after it (older) follow.
type Cursor struct {
	At   time.Time
	Kind TimelineKind
	ID   int64
}

// TimelineFilter narrows a timeline to some types.
type TimelineFilter struct {
	AllEvents, AllActions bool
	EventTypes            []string
	ActionTypes           []string
}

func (f TimelineFilter) empty() bool {
	return !f.AllEvents && !f.AllActions && len(f.EventTypes) == 0 && len(f.ActionTypes) == 0
}

// TimelineEntry is an event or an action; exactly one is set.
type TimelineEntry struct {
	Cursor
	Event  *EventRecord
	Action *ActionRow
	// Trigger is the event an action answered, if it is stored: its id,
	// type, order and time, and its data only for the types whose data says
	// why the action is due when it is (a back-in-stock notice's queue, a
	// cart); "{}" otherwise.
	Trigger *EventRecord
}

// Timeline returns up to limit entries of a customer's journey, newest first,
// after cursor (nil: from the newest), and whether more follow. Events sort by
// source time, actions by when they were planned. Both queries use the
// (customer_id, time, id) indexes, so every page costs two index range scans;
// the actions' triggers come with them, by primary key. The statements are
// built here: the support console reads a page per click.
func (s *Store) Timeline(ctx context.Context, customerID int64, cur *Cursor, f TimelineFilter, limit int) ([]TimelineEntry, bool, error) {
	var entries []TimelineEntry
	if f.empty() || f.AllEvents || len(f.EventTypes) > 0 {
		q := "SELECT " + eventColumns("events") + " FROM events WHERE events.customer_id = ?"
		args := []any{customerID}
		if !f.empty() && !f.AllEvents {
			q += " AND events.type IN (" + placeholders(len(f.EventTypes)) + ")"
			args = appendStrings(args, f.EventTypes)
		}
		if cur != nil {
			if cur.Kind == KindAction {
				q += " AND events.occurred_at <= ?"
				args = append(args, cur.At)
			} else {
				q += " AND (events.occurred_at < ? OR (events.occurred_at = ? AND events.id < ?))"
				args = append(args, cur.At, cur.At, cur.ID)
			}
		}
		cond, shop := s.shopCond("events")
		q += cond + " ORDER BY events.occurred_at DESC, events.id DESC LIMIT ?"
		err := s.each(ctx, "timeline events", q, append(append(args, shop...), limit+1), func(rows *sql.Rows) error {
			var r EventRecord
			err := r.scan(rows)
			entries = append(entries, TimelineEntry{Cursor: Cursor{r.OccurredAt, KindEvent, r.ID}, Event: &r})
			return err
		})
		if err != nil {
			return nil, false, err
		}
	}
	if f.empty() || f.AllActions || len(f.ActionTypes) > 0 {
		q := "SELECT " + actionColumns + ", te.id, te.type, te.order_ref, te.occurred_at, CASE WHEN te.type IN (" + placeholders(len(triggerDataTypes)) +
			") THEN te.data ELSE '{}' END FROM actions LEFT JOIN events te ON te.shop_id = actions.shop_id AND te.id = actions.trigger_event_id" +
			" WHERE actions.customer_id = ?"
		args := appendStrings(nil, triggerDataTypes)
		args = append(args, customerID)
		if !f.empty() && !f.AllActions {
			q += " AND actions.type IN (" + placeholders(len(f.ActionTypes)) + ")"
			args = appendStrings(args, f.ActionTypes)
		}
		if cur != nil {
			if cur.Kind == KindEvent {
				q += " AND actions.created_at < ?"
				args = append(args, cur.At)
			} else {
				q += " AND (actions.created_at < ? OR (actions.created_at = ? AND actions.id < ?))"
				args = append(args, cur.At, cur.At, cur.ID)
			}
		}
		cond, shop := s.shopCond("actions")
		q += cond + " ORDER BY actions.created_at DESC, actions.id DESC LIMIT ?"
		err := s.each(ctx, "timeline actions", q, append(append(args, shop...), limit+1), func(rows *sql.Rows) error {
			var a ActionRow
			var tid sql.NullInt64
			var ttype, tref, tdata sql.NullString
			var tat sql.NullTime
			if err := rows.Scan(append(a.fields(), &tid, &ttype, &tref, &tat, &tdata)...); err != nil {
				return err
			}
			e := TimelineEntry{Cursor: Cursor{a.CreatedAt, KindAction, a.ID}, Action: &a}
			if tid.Valid {
				e.Trigger = &EventRecord{ShopID: a.ShopID, ID: tid.Int64, Type: ttype.String, OrderRef: tref.String, OccurredAt: tat.Time, Data: tdata.String}
			}
			entries = append(entries, e)
			return nil
		})
		if err != nil {
			return nil, false, err
		}
	}
	slices.SortFunc(entries, func(a, b TimelineEntry) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		if a.Kind != b.Kind {
			return int(b.Kind) - int(a.Kind)
		}
		return cmp.Compare(b.ID, a.ID)
	})
	more := len(entries) > limit
	if more {
		entries = entries[:limit]
	}
	return entries, more, nil
}

func appendStrings(args []any, ss []string) []any {
	for _, v := range ss {
		args = append(args, v)
	}
	return args
}
