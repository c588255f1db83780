package handlers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// CustomerReader is what the customer API reads.
type CustomerReader interface {
	ShopByKey(ctx context.Context, key string) (*models.Shop, error)
	FindCustomers(ctx context.Context, shopID int64, q string) ([]store.CustomerSummary, error)
	CustomerByPublicID(ctx context.Context, shopID int64, publicID string) (*models.Profile, time.Time, error)
	// The reads of one customer name the shop too: on a keyspace sharded
	// by shop (deploy/vitess) that routes them to its shard.
	CustomerIdentities(ctx context.Context, shopID, customerID int64) ([]store.Identity, error)
	Timeline(ctx context.Context, shopID, customerID int64, cur *store.Cursor, f store.TimelineFilter, limit int) ([]store.TimelineEntry, bool, error)
	EventsByID(ctx context.Context, shopID int64, ids []int64) (map[int64]store.EventRecord, error)
	LogAccess(ctx context.Context, shopID, tokenID, customerID int64, what string) error
}

type customerHit struct {
	ID          string           `json:"id"`
	Stage       string           `json:"stage"`
	Identities  []store.Identity `json:"identities"`
	OrderCount  int              `json:"order_count"`
	LastOrderAt *time.Time       `json:"last_order_at"`
}

func (s *server) shop(c *gin.Context) (*models.Shop, bool) {
	shop, err := s.Customers.ShopByKey(c.Request.Context(), c.Param("shop"))
	if errors.Is(err, models.ErrNotFound) {
		writeProblem(c, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: "No shop with key " + strconv.Quote(c.Param("shop")) + "."})
		return nil, false
	}
	if err != nil {
		s.writeError(c, err)
		return nil, false
	}
	return shop, true
}

func (s *server) searchCustomers(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	if q == "" {
		writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
			Detail: "The query parameter q is required: an e-mail address, customer number or the shop's customer id.",
			Errors: []models.FieldError{{Field: "q", Message: "is required"}}})
		return
	}
	shop, ok := s.shop(c)
	if !ok {
		return
	}
	hits, err := s.Customers.FindCustomers(c.Request.Context(), shop.ID, q)
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]customerHit, 0, len(hits))
	for _, h := range hits {
		if err := s.Customers.LogAccess(c.Request.Context(), shop.ID, tokenOf(c).ID, h.ID, "search"); err != nil {
			s.writeError(c, err)
			return
		}
		out = append(out, customerHit{ID: h.PublicID, Stage: h.Stage, Identities: nonNil(h.Identities), OrderCount: h.OrderCount, LastOrderAt: h.LastOrderAt})
	}
	c.JSON(http.StatusOK, gin.H{"customers": out})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// customer loads the {id} customer of the {shop} shop and logs the access.
func (s *server) customer(c *gin.Context, what string) (*models.Shop, *models.Profile, time.Time, bool) {
	shop, ok := s.shop(c)
	if !ok {
		return nil, nil, time.Time{}, false
	}
	p, created, err := s.Customers.CustomerByPublicID(c.Request.Context(), shop.ID, c.Param("id"))
	if errors.Is(err, models.ErrNotFound) {
		writeProblem(c, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: "No customer " + strconv.Quote(c.Param("id")) + " in shop " + shop.Key + "."})
		return nil, nil, time.Time{}, false
	}
	if err != nil {
		s.writeError(c, err)
		return nil, nil, time.Time{}, false
	}
	if err := s.Customers.LogAccess(c.Request.Context(), shop.ID, tokenOf(c).ID, p.CustomerID, what); err != nil {
		s.writeError(c, err)
		return nil, nil, time.Time{}, false
	}
	return shop, p, created, true
}

type profileResponse struct {
	ID                  string           `json:"id"`
	Shop                string           `json:"shop"`
	Name                string           `json:"name,omitempty"`
	Stage               models.Stage     `json:"stage"`
	Identities          []store.Identity `json:"identities"`
	OrderCount          int              `json:"order_count"`
	PositiveOrderCount  int              `json:"positive_order_count"`
	ReturnCount         int              `json:"return_count"`
	TotalSpent          models.Money     `json:"total_spent"`
	Currency            string           `json:"currency,omitempty"`
	FirstOrderAt        *time.Time       `json:"first_order_at"`
	LastOrderAt         *time.Time       `json:"last_order_at"`
	ReorderIntervalDays float64          `json:"reorder_interval_days"`
	Categories          []string         `json:"categories"`
	SKUs                []string         `json:"skus"`
	MarketingConsent    bool             `json:"marketing_consent"`
	OptedOutCategories  []string         `json:"opted_out_categories"`
	Birthday            string           `json:"birthday,omitempty"`
	PointsBalance       int64            `json:"points_balance"`
	Tier                string           `json:"tier,omitempty"`
	ReferralCode        string           `json:"referral_code,omitempty"`
	ReferredBy          string           `json:"referred_by,omitempty"`
	Holdout             bool             `json:"holdout"`
	CreatedAt           time.Time        `json:"created_at"`
}

func (s *server) getCustomer(c *gin.Context) {
	shop, p, created, ok := s.customer(c, "profile")
	if !ok {
		return
	}
	ids, err := s.Customers.CustomerIdentities(c.Request.Context(), shop.ID, p.CustomerID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	balance, tier := p.PointsBalance, p.Tier
	if s.Points != nil {
		if balance, tier, err = s.Points(c.Request.Context(), shop.ID, p.CustomerID); err != nil {
			s.writeError(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, profileResponse{
		ID: p.PublicID, Shop: shop.Key, Name: p.Name, Stage: p.Stage, Identities: nonNil(ids), OrderCount: p.OrderCount,
		PositiveOrderCount: p.PositiveOrderCount, ReturnCount: p.ReturnCount, TotalSpent: models.FormatCents(p.TotalSpentCents),
		Currency: p.Currency, FirstOrderAt: p.FirstOrderAt, LastOrderAt: p.LastOrderAt, ReorderIntervalDays: p.ReorderIntervalDays,
		Categories: nonNil(p.Categories), SKUs: nonNil(p.SKUs), MarketingConsent: p.MarketingConsent,
		OptedOutCategories: nonNil(p.OptedOutCategories), Birthday: p.Birthday, PointsBalance: balance, Tier: tier,
		ReferralCode: p.ReferralCode, ReferredBy: p.ReferredBy, Holdout: p.Holdout, CreatedAt: created,
	})
}

type timelineItem struct {
	Kind string    `json:"kind"`
	ID   string    `json:"id"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	// events
	ReceivedAt *time.Time      `json:"received_at,omitempty"`
	Platform   string          `json:"platform,omitempty"`
	OrderRef   string          `json:"order_ref,omitempty"`
	Summary    string          `json:"summary,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	// OrderNumber is the order's number as the shop shows it (10042), where
	// the event or the action's trigger names one.
	OrderNumber string `json:"order_number,omitempty"`
	// actions
	Status       string         `json:"status,omitempty"`
	DueAt        *time.Time     `json:"due_at,omitempty"`
	SentAt       *time.Time     `json:"sent_at,omitempty"`
	RuleID       string         `json:"rule_id,omitempty"`
	RulesVersion string         `json:"rules_version,omitempty"`
	TriggerEvent *triggerRef    `json:"trigger_event,omitempty"`
	Attempts     *int           `json:"attempts,omitempty"`
	Reason       string         `json:"reason,omitempty"`
	Params       map[string]any `json:"params,omitempty"`
	Why          string         `json:"why,omitempty"`
	Waiting      string         `json:"waiting,omitempty"`
}

type triggerRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

func eventID(id int64) string { return "e-" + strconv.FormatInt(id, 10) }

func (s *server) getTimeline(c *gin.Context) {
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
				Detail: "limit must be a whole number from 1 to 200.", Errors: []models.FieldError{{Field: "limit", Message: "must be 1-200"}}})
			return
		}
		limit = n
	}
	var cur *store.Cursor
	if v := c.Query("cursor"); v != "" {
		cc, err := decodeCursor(v)
		if err != nil {
			writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
				Detail: "cursor is not one this API returned.", Errors: []models.FieldError{{Field: "cursor", Message: "is invalid"}}})
			return
		}
		cur = &cc
	}
	filter, err := parseTypes(c.Query("types"))
	if err != nil {
		writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
			Detail: err.Error(), Errors: []models.FieldError{{Field: "types", Message: err.Error()}}})
		return
	}
	shop, p, _, ok := s.customer(c, "timeline")
	if !ok {
		return
	}
	ctx := c.Request.Context()
	entries, more, err := s.Customers.Timeline(ctx, shop.ID, p.CustomerID, cur, filter, limit)
	if err != nil {
		s.writeError(c, err)
		return
	}
	var trig []int64
	for _, e := range entries {
		if e.Action != nil && e.Action.TriggerEventID != nil {
			trig = append(trig, *e.Action.TriggerEventID)
		}
	}
	triggers, err := s.Customers.EventsByID(ctx, shop.ID, trig)
	if err != nil {
		s.writeError(c, err)
		return
	}
	items := make([]timelineItem, 0, len(entries))
	for _, e := range entries {
		if e.Event != nil {
			items = append(items, eventItem(e.Event))
			continue
		}
		it, a, err := actionItem(e.Action, triggers)
		if err != nil {
			s.writeError(c, err)
			return
		}
		it.Waiting = s.waiting(shop, &a)
		items = append(items, it)
	}
	// Steps and actions name their order by the number an order event on
	// the page gives it.
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
	resp := gin.H{"items": items}
	if more && len(entries) > 0 {
		resp["next_cursor"] = encodeCursor(entries[len(entries)-1].Cursor)
	}
	c.JSON(http.StatusOK, resp)
}

func eventItem(r *store.EventRecord) timelineItem {
	rec := r.ReceivedAt
	it := timelineItem{Kind: "event", ID: eventID(r.ID), Type: r.Type, At: r.OccurredAt, ReceivedAt: &rec,
		Platform: r.Platform, OrderRef: r.OrderRef, Data: json.RawMessage(r.Data)}
	if ev, err := r.Event(); err == nil {
		it.Summary = summarize(&ev)
		it.OrderNumber = orderNumber(&ev)
	}
	return it
}

func orderNumber(e *models.Event) string {
	if o := e.Data.Order; o != nil && o.Number != "" && o.Number != o.ID {
		return o.Number
	}
	return ""
}

func actionItem(r *store.ActionRow, triggers map[int64]store.EventRecord) (timelineItem, models.Action, error) {
	a, err := r.Action()
	if err != nil {
		return timelineItem{}, a, err
	}
	due, attempts := a.DueAt, a.Attempts
	it := timelineItem{Kind: "action", ID: a.PublicID, Type: string(a.Type), At: a.CreatedAt, Status: string(a.Status),
		DueAt: &due, SentAt: a.SentAt, RuleID: a.RuleID, RulesVersion: a.RulesVersion, Attempts: &attempts,
		Reason: a.Reason, Params: a.Params, OrderRef: a.OrderRef}
	why := "rule " + a.RuleID
	if t, ok := triggers[a.TriggerEventID]; ok {
		it.TriggerEvent = &triggerRef{ID: eventID(t.ID), Type: t.Type}
		why += " on " + t.Type
		if ev, err := t.Event(); err == nil && t.OrderRef == a.OrderRef {
			it.OrderNumber = orderNumber(&ev)
		}
	} else if a.TriggerEventID == 0 {
		why += " on the periodic scan"
	}
	switch {
	case it.OrderNumber != "":
		why += " (order " + it.OrderNumber + ")"
	case a.OrderRef != "":
		why += " (order " + a.OrderRef + ")"
	}
	if a.SKU != "" {
		why += " for " + a.SKU
	}
	it.Why = why
	return it, a, nil
}

// summarize writes one line a support person can read at a glance. A test
// order's steps say so, since the profile does not count them.
func summarize(e *models.Event) string {
	s := summarizeStep(e)
	if o := e.Data.Order; o != nil && o.Test {
		s += " (test order)"
	}
	return s
}

// amount writes an amount with its currency, or alone when the event has none.
func amount(m models.Money, currency string) string {
	return strings.TrimSpace(string(m) + " " + currency)
}

func summarizeStep(e *models.Event) string {
	d := &e.Data
	order := ""
	if d.Order != nil {
		order = d.Order.ID
		if d.Order.Number != "" {
			order = d.Order.Number
		}
	}
	switch e.Type {
	case models.OrderPlaced:
		n := 0
		for _, it := range d.Order.Items {
			n += it.Quantity
		}
		s := fmt.Sprintf("Order %s placed", order)
		if n > 0 {
			s += fmt.Sprintf(": %d item(s)", n)
		}
		if d.Order.Total != "" {
			s += ", " + amount(d.Order.Total, d.Order.Currency)
		}
		return s
	case models.OrderPaid:
		return "Order " + order + " paid"
	case models.OrderCancelled:
		return "Order " + order + " cancelled"
	case models.OrderCompleted:
		return "Order " + order + " completed"
	case models.ShipmentShipped:
		s := "Order " + order + " shipped"
		if d.Shipment != nil && d.Shipment.Carrier != "" {
			s += " with " + d.Shipment.Carrier
		}
		if d.Shipment != nil && d.Shipment.PromisedDeliveryAt != nil {
			s += ", promised for " + d.Shipment.PromisedDeliveryAt.Format("2006-01-02")
		}
		return s
	case models.ShipmentDelivered:
		return "Order " + order + " delivered"
	case models.ReturnRequested, models.ReturnReceived:
		verb := "requested"
		if e.Type == models.ReturnReceived {
			verb = "received"
		}
		s := "Return of order " + order + " " + verb
		if d.Return != nil && d.Return.Reason != "" {
			s += ": " + d.Return.Reason
		}
		return s
	case models.RefundIssued:
		s := "Refund for order " + order
		if d.Refund != nil && d.Refund.Amount != "" {
			s += ": " + amount(d.Refund.Amount, d.Refund.Currency)
		}
		return s
	case models.ConsentGranted, models.ConsentRevoked:
		verb := "granted"
		if e.Type == models.ConsentRevoked {
			verb = "revoked"
		}
		return "Marketing consent " + verb + " (" + d.Consent.Channel + ")"
	case models.CategoryOptedOut:
		return "Opted out of " + d.OptOut.Category
	case models.CustomerRegistered:
		return "Registered"
	case models.ReviewSubmitted:
		if d.Review != nil && d.Review.Rating > 0 {
			return fmt.Sprintf("Review submitted: %d stars", d.Review.Rating)
		}
		return "Review submitted"
	case models.ComplaintOpened:
		if d.Complaint != nil && d.Complaint.Reason != "" {
			return "Complaint: " + d.Complaint.Reason
		}
		return "Complaint opened"
	}
	return string(e.Type)
}

func parseTypes(s string) (store.TimelineFilter, error) {
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
				return f, fmt.Errorf("unknown action type %q", at)
			}
			f.ActionTypes = append(f.ActionTypes, string(at))
		default:
			if !models.EventType(t).Valid() {
				return f, fmt.Errorf("unknown type %q: use an event type, action.<type>, events or actions", t)
			}
			f.EventTypes = append(f.EventTypes, t)
		}
	}
	return f, nil
}

func encodeCursor(c store.Cursor) string {
	s := fmt.Sprintf("%d|%d|%d", c.At.UnixNano(), c.Kind, c.ID)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeCursor(s string) (store.Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.Cursor{}, err
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 {
		return store.Cursor{}, errors.New("bad cursor")
	}
	ns, err1 := strconv.ParseInt(parts[0], 10, 64)
	kind, err2 := strconv.Atoi(parts[1])
	id, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil || (kind != 0 && kind != 1) {
		return store.Cursor{}, errors.New("bad cursor")
	}
	return store.Cursor{At: time.Unix(0, ns).UTC(), Kind: store.TimelineKind(kind), ID: id}, nil
}
