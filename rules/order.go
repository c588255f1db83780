package rules

import (
	"cmp"
	"slices"
	"time"

	"github.com/treue/treue/models"
)

// OrderState is an order as accumulated from every stored event of that order
// (placed, paid, shipped, delivered, …). Events often carry only part of an
// order — a Shopware delivery event has no placed_at, a return has no prices —
// so lateness, handling time and per-line points are computed from this
// snapshot, not from the triggering event alone. Build it with OrderFromEvents.
type OrderState struct {
	ID                 string            `json:"id"`
	Number             string            `json:"number,omitempty"`
	PlacedAt           time.Time         `json:"placed_at,omitzero"`
	PaidAt             time.Time         `json:"paid_at,omitzero"`
	ShippedAt          time.Time         `json:"shipped_at,omitzero"`
	PromisedDeliveryAt time.Time         `json:"promised_delivery_at,omitzero"`
	DeliveredAt        time.Time         `json:"delivered_at,omitzero"`
	Currency           string            `json:"currency,omitempty"`
	Total              models.Money      `json:"total,omitempty"`
	Items              []models.LineItem `json:"items,omitempty"`
	Coupon             string            `json:"coupon,omitempty"`
}

// OrderFromEvents folds the events of one order into its state. The result
// does not depend on the order of events: times take the earliest value
// (delivered_at the latest: the last parcel), and contents come from the
// most authoritative event (placed, then paid, then completed, then the rest).
func OrderFromEvents(events []models.Event) OrderState {
	sorted := make([]*models.Event, 0, len(events))
	for i := range events {
		if events[i].Data.Order != nil {
			sorted = append(sorted, &events[i])
		}
	}
	slices.SortStableFunc(sorted, func(a, b *models.Event) int {
		if c := cmp.Compare(contentRank(a.Type), contentRank(b.Type)); c != 0 {
			return c
		}
		if c := a.OccurredAt().Compare(b.OccurredAt()); c != 0 {
			return c
		}
		return cmp.Compare(a.StepKey(), b.StepKey())
	})
	var st OrderState
	for _, e := range sorted {
		st.merge(e)
	}
	return st
}

func contentRank(t models.EventType) int {
	switch t {
	case models.OrderPlaced:
		return 0
	case models.OrderPaid:
		return 1
	case models.OrderCompleted:
		return 2
	}
	return 3
}

// merge adds what e knows about its order: empty fields are filled, times
// keep the earliest (delivered_at the latest).
func (st *OrderState) merge(e *models.Event) {
	o := e.Data.Order
	if o == nil {
		return
	}
	if st.ID == "" {
		st.ID = o.ID
	}
	if st.Number == "" {
		st.Number = o.Number
	}
	if st.Currency == "" {
		st.Currency = o.Currency
	}
	if st.Total == "" {
		st.Total = o.Total
	}
	if len(st.Items) == 0 && len(o.Items) > 0 {
		st.Items = o.Items
	}
	if st.Coupon == "" {
		st.Coupon = o.Coupon
	}
	earliest(&st.PlacedAt, o.PlacedAt)
	earliest(&st.PaidAt, o.PaidAt)
	// The step's own time: the payload's time where it has one, else the envelope's.
	at := e.OccurredAt()
	switch e.Type {
	case models.OrderPlaced:
		earliest(&st.PlacedAt, &at)
	case models.OrderPaid:
		earliest(&st.PaidAt, &at)
	case models.ShipmentShipped:
		earliest(&st.ShippedAt, &at)
	case models.ShipmentDelivered:
		latest(&st.DeliveredAt, &at)
	}
	if sh := e.Data.Shipment; sh != nil {
		earliest(&st.ShippedAt, sh.ShippedAt)
		earliest(&st.PromisedDeliveryAt, sh.PromisedDeliveryAt)
		latest(&st.DeliveredAt, sh.DeliveredAt)
	}
}

func earliest(dst *time.Time, t *time.Time) {
	if t == nil || t.IsZero() {
		return
	}
	if dst.IsZero() || t.Before(*dst) {
		*dst = t.UTC()
	}
}

// orderState is Input.Order with the triggering event merged in.
func (in *Input) orderState() OrderState {
	var st OrderState
	if in.Order != nil {
		st = *in.Order
	}
	st.merge(&in.Event)
	return st
}

func latest(dst *time.Time, t *time.Time) {
	if t == nil || t.IsZero() {
		return
	}
	if t.After(*dst) {
		*dst = t.UTC()
	}
}
