package support

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// ErrBadCursor: the cursor is not one a page returned.
var ErrBadCursor = errors.New("bad cursor")

// Cursor is a position in a timeline, as Page.Next gives it.
type Cursor struct{ c store.Cursor }

// ParseCursor reads a cursor a page returned (Page.Next); anything else is
// ErrBadCursor.
func ParseCursor(s string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 {
		return nil, ErrBadCursor
	}
	ns, err1 := strconv.ParseInt(parts[0], 10, 64)
	kind, err2 := strconv.Atoi(parts[1])
	id, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil || (kind != int(store.KindEvent) && kind != int(store.KindAction)) {
		return nil, ErrBadCursor
	}
	return &Cursor{store.Cursor{At: time.Unix(0, ns).UTC(), Kind: store.TimelineKind(kind), ID: id}}, nil
}

func encodeCursor(c store.Cursor) string {
	s := fmt.Sprintf("%d|%d|%d", c.At.UnixNano(), c.Kind, c.ID)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// Types narrows a timeline to some types of entries; the zero value is all.
type Types struct{ f store.TimelineFilter }

// ParseTypes reads a comma-separated list of event types, action.<type>,
// "events" and "actions"; the error names what it does not know.
func ParseTypes(s string) (Types, error) {
	var f store.TimelineFilter
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
		case t == "events":
			f.AllEvents = true
		case t == "actions" || t == "action":
			f.AllActions = true
		case strings.HasPrefix(t, "action."):
			at := models.ActionType(strings.TrimPrefix(t, "action."))
			if !at.Valid() {
				return Types{f}, fmt.Errorf("unknown action type %q", at)
			}
			f.ActionTypes = append(f.ActionTypes, string(at))
		default:
			if !models.EventType(t).Valid() {
				return Types{f}, fmt.Errorf("unknown type %q: use an event type, action.<type>, events or actions", t)
			}
			f.EventTypes = append(f.EventTypes, t)
		}
	}
	return Types{f}, nil
}

// TimelineQuery asks for one page of a timeline.
type TimelineQuery struct {
	After *Cursor // nil: from the newest entry
	Types Types
	Limit int
}

// Page is one page of a customer's timeline, newest first.
type Page struct {
	Items []Item
	// Next is the cursor of the following page, "" on the last one.
	Next string
}

// Item is one timeline entry: an event (Kind "event") or an action (Kind
// "action"). The fields under each kind are set for that kind only.
type Item struct {
	Kind string
	ID   string
	Type string
	At   time.Time
	// OrderRef is the shop's id of the entry's order, if any.
	OrderRef string
	// OrderNumber is the order's number as the shop shows it (10042), where
	// the event, the action's trigger or an order event on the page names one.
	OrderNumber string

	// events
	ReceivedAt *time.Time
	Platform   string
	// Summary is one line a support person can read at a glance.
	Summary string
	Data    json.RawMessage

	// actions
	Status       string
	DueAt        *time.Time
	SentAt       *time.Time
	RuleID       string
	RulesVersion string
	Trigger      *Trigger
	Attempts     *int
	Reason       string
	Params       map[string]any
	// Why names the rule, what it answered and the order it is about.
	Why string
	// Waiting says why an action that has not gone out waits.
	Waiting string
}

// Trigger is the event an action answered.
type Trigger struct {
	ID   string
	Type string
}

// Timeline reads a page of a shop's customer's timeline.
func (s *Service) Timeline(ctx context.Context, shop *models.Shop, customerID int64, q TimelineQuery) (*Page, error) {
	var cur *store.Cursor
	if q.After != nil {
		cur = &q.After.c
	}
	entries, more, err := s.Store.Timeline(ctx, shop.ID, customerID, cur, q.Types.f, q.Limit)
	if err != nil {
		return nil, err
	}
	// Several actions answer one event: each is decoded once.
	triggers := map[int64]trigger{}
	for _, e := range entries {
		r := e.Trigger
		if r == nil {
			continue
		}
		if _, done := triggers[r.ID]; done {
			continue
		}
		t := trigger{ref: Trigger{ID: models.EventPublicID(r.ID), Type: r.Type}, orderRef: r.OrderRef}
		if ev, err := r.Event(); err == nil {
			t.orderNumber = orderNumber(&ev)
			t.restock = restockWhy(&ev)
			t.cart = cartNote(&ev)
		}
		triggers[r.ID] = t
	}
	items := make([]Item, 0, len(entries))
	for _, e := range entries {
		if e.Event != nil {
			items = append(items, eventItem(e.Event))
			continue
		}
		it, a, err := actionItem(e.Action, triggers)
		if err != nil {
			return nil, err
		}
		if s.Dispatch != nil {
			it.Waiting = s.Dispatch.Waiting(shop, &a)
		}
		items = append(items, it)
	}
	numberOrders(items)
	page := &Page{Items: items}
	if more && len(entries) > 0 {
		page.Next = encodeCursor(entries[len(entries)-1].Cursor)
	}
	return page, nil
}

// numberOrders names the order of steps and actions by the number an order
// event on the page gives it.
func numberOrders(items []Item) {
	numbers := map[string]string{}
	for _, it := range items {
		if it.OrderNumber != "" {
			numbers[it.OrderRef] = it.OrderNumber
		}
	}
	for i := range items {
		it := &items[i]
		if n := numbers[it.OrderRef]; it.OrderNumber == "" && n != "" {
			it.OrderNumber = n
			it.Why = strings.Replace(it.Why, " (order "+it.OrderRef+")", " (order "+n+")", 1)
		}
	}
}

func eventItem(r *store.EventRecord) Item {
	rec := r.ReceivedAt
	it := Item{Kind: "event", ID: models.EventPublicID(r.ID), Type: r.Type, At: r.OccurredAt, ReceivedAt: &rec,
		Platform: r.Platform, OrderRef: r.OrderRef, Data: json.RawMessage(r.Data)}
	if ev, err := r.Event(); err == nil {
		it.Summary = Summarize(&ev)
		it.OrderNumber = orderNumber(&ev)
	}
	return it
}

// orderNumber is the number of the event's order where it differs from the
// order's id.
func orderNumber(e *models.Event) string {
	if o := e.Data.Order; o != nil && o.Number != "" && o.Number != o.ID {
		return o.Number
	}
	return ""
}

// trigger is an event actions on the page answered.
type trigger struct {
	ref                   Trigger
	orderRef, orderNumber string
	restock               string // a back-in-stock notice's queue (stock.go)
	// cart describes the trigger's cart (cartNote), "" for other events.
	cart string
}

func actionItem(r *store.ActionRow, triggers map[int64]trigger) (Item, models.Action, error) {
	a, err := r.Action()
	if err != nil {
		return Item{}, a, err
	}
	due, attempts := a.DueAt, a.Attempts
	it := Item{Kind: "action", ID: a.PublicID, Type: string(a.Type), At: a.CreatedAt, Status: string(a.Status),
		DueAt: &due, SentAt: a.SentAt, RuleID: a.RuleID, RulesVersion: a.RulesVersion, Attempts: &attempts,
		Reason: a.Reason, Params: a.Params, OrderRef: a.OrderRef}
	triggerType := ""
	if t, found := triggers[a.TriggerEventID]; found {
		ref := t.ref
		it.Trigger, triggerType = &ref, t.ref.Type
		if t.orderRef == a.OrderRef {
			it.OrderNumber = t.orderNumber
		}
	}
	it.Why = why(&a, triggerType, it.OrderNumber)
	it.Why += unhappyWhy(&a)
	if t := triggers[a.TriggerEventID]; t.restock != "" {
		it.Why += ": " + t.restock
	}
	it.Why += budgetWhy(&a)
	if t := triggers[a.TriggerEventID]; t.cart != "" {
		it.Why += " (" + t.cart + ")"
	}
	return it, a, nil
}

// why says what planned an action: its rule, the type of the event it
// answered ("" when the event is gone) or the periodic scan, its order (by number where known) and its product.
func why(a *models.Action, triggerType, orderNumber string) string {
	w := "rule " + a.RuleID
	switch {
	case triggerType != "":
		w += " on " + triggerType
	case a.TriggerEventID == 0:
		w += " on the periodic scan"
	}
	switch {
	case orderNumber != "":
		w += " (order " + orderNumber + ")"
	case a.OrderRef != "":
		w += " (order " + a.OrderRef + ")"
	}
	if a.SKU != "" {
		w += " for " + a.SKU
	}
	w += recommendation(a.Params)
	return w
}
