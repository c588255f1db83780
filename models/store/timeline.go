package store

import (
	"cmp"
	"context"
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
}

// Timeline returns up to limit entries of a customer's journey, newest first,
// after cursor (nil: from the newest), and whether more follow. Events sort by
// source time, actions by when they were planned. Both queries use the
// (customer_id, time, id) indexes, so every page costs two index range scans.
func (s *Store) Timeline(ctx context.Context, customerID int64, cur *Cursor, f TimelineFilter, limit int) ([]TimelineEntry, bool, error) {
	var entries []TimelineEntry
	if f.empty() || f.AllEvents || len(f.EventTypes) > 0 {
		q := s.scoped(ctx, "events").Where("customer_id = ?", customerID)
		if !f.empty() && !f.AllEvents {
			q = q.Where("type IN ?", f.EventTypes)
		}
		if cur != nil {
			if cur.Kind == KindAction {
				q = q.Where("occurred_at <= ?", cur.At)
			} else {
				q = q.Where("occurred_at < ? OR (occurred_at = ? AND id < ?)", cur.At, cur.At, cur.ID)
			}
		}
		var evs []EventRecord
		if err := q.Order("occurred_at DESC, id DESC").Limit(limit + 1).Find(&evs).Error; err != nil {
			return nil, false, translate("timeline events", err)
		}
		for i := range evs {
			entries = append(entries, TimelineEntry{Cursor: Cursor{evs[i].OccurredAt, KindEvent, evs[i].ID}, Event: &evs[i]})
		}
	}
	if f.empty() || f.AllActions || len(f.ActionTypes) > 0 {
		q := s.scoped(ctx, "actions").Where("customer_id = ?", customerID)
		if !f.empty() && !f.AllActions {
			q = q.Where("type IN ?", f.ActionTypes)
		}
		if cur != nil {
			if cur.Kind == KindEvent {
				q = q.Where("created_at < ?", cur.At)
			} else {
				q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", cur.At, cur.At, cur.ID)
			}
		}
		var acts []ActionRow
		if err := q.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&acts).Error; err != nil {
			return nil, false, translate("timeline actions", err)
		}
		for i := range acts {
			entries = append(entries, TimelineEntry{Cursor: Cursor{acts[i].CreatedAt, KindAction, acts[i].ID}, Action: &acts[i]})
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

// EventsByID loads events by id (the triggers of timeline actions).
func (s *Store) EventsByID(ctx context.Context, ids []int64) (map[int64]EventRecord, error) {
	out := map[int64]EventRecord{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []EventRecord
	// A back-in-stock notice's and a cart event's data say why their actions
	// are due when they are (support); other triggers need only their type
	// and order.
	if err := s.scoped(ctx, "events").Select("id, type, order_ref, occurred_at, CASE WHEN type IN ? THEN data ELSE '{}' END AS data", triggerDataTypes).
		Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, translate("events by id", err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}
