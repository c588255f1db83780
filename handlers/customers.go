package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/treue/treue/models"
	"github.com/treue/treue/support"
)

// CustomerReader is what the customer API reads: support's reads
// (support.Service), each of which logs who read which customer.
type CustomerReader interface {
	ShopByKey(ctx context.Context, key string) (*models.Shop, error)
	FindCustomers(ctx context.Context, shop *models.Shop, q string, tokenID int64) ([]support.Hit, error)
	Customer(ctx context.Context, shop *models.Shop, publicID string, tokenID int64, what string) (*support.Customer, error)
	CustomerID(ctx context.Context, shop *models.Shop, publicID string, tokenID int64, what string) (int64, error)
	Identities(ctx context.Context, shop *models.Shop, customerID int64) ([]models.Identity, error)
	Timeline(ctx context.Context, shop *models.Shop, customerID int64, q support.TimelineQuery) (*support.Page, error)
	Export(ctx context.Context, shop *models.Shop, customerID int64) (*support.Export, error)
}

// identity is one way the shop names a customer.
type identity struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

func toIdentities(ids []models.Identity) []identity {
	out := make([]identity, len(ids))
	for i, x := range ids {
		out[i] = identity{Kind: x.Kind, Value: x.Value}
	}
	return out
}

type customerHit struct {
	ID          string     `json:"id"`
	Stage       string     `json:"stage"`
	Identities  []identity `json:"identities"`
	OrderCount  int        `json:"order_count"`
	LastOrderAt *time.Time `json:"last_order_at"`
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
	hits, err := s.Customers.FindCustomers(c.Request.Context(), shop, q, tokenOf(c).ID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]customerHit, 0, len(hits))
	for _, h := range hits {
		out = append(out, customerHit{ID: h.PublicID, Stage: h.Stage, Identities: toIdentities(h.Identities), OrderCount: h.OrderCount, LastOrderAt: h.LastOrderAt})
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
func (s *server) customer(c *gin.Context, what string) (*models.Shop, *support.Customer, bool) {
	shop, ok := s.shop(c)
	if !ok {
		return nil, nil, false
	}
	p, err := s.Customers.Customer(c.Request.Context(), shop, c.Param("id"), tokenOf(c).ID, what)
	if !s.customerFound(c, shop, err) {
		return nil, nil, false
	}
	return shop, p, true
}

// customerID is customer for reads that need only the customer's id.
func (s *server) customerID(c *gin.Context, what string) (*models.Shop, int64, bool) {
	shop, ok := s.shop(c)
	if !ok {
		return nil, 0, false
	}
	id, err := s.Customers.CustomerID(c.Request.Context(), shop, c.Param("id"), tokenOf(c).ID, what)
	if !s.customerFound(c, shop, err) {
		return nil, 0, false
	}
	return shop, id, true
}

// customerFound answers a failed customer lookup: 404 for an unknown one.
func (s *server) customerFound(c *gin.Context, shop *models.Shop, err error) bool {
	if errors.Is(err, models.ErrNotFound) {
		writeProblem(c, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: "No customer " + strconv.Quote(c.Param("id")) + " in shop " + shop.Key + "."})
		return false
	}
	if err != nil {
		s.writeError(c, err)
		return false
	}
	return true
}

type profileResponse struct {
	ID                  string       `json:"id"`
	Shop                string       `json:"shop"`
	Name                string       `json:"name,omitempty"`
	Stage               models.Stage `json:"stage"`
	Identities          []identity   `json:"identities"`
	OrderCount          int          `json:"order_count"`
	PositiveOrderCount  int          `json:"positive_order_count"`
	ReturnCount         int          `json:"return_count"`
	TotalSpent          models.Money `json:"total_spent"`
	Currency            string       `json:"currency,omitempty"`
	FirstOrderAt        *time.Time   `json:"first_order_at"`
	LastOrderAt         *time.Time   `json:"last_order_at"`
	ReorderIntervalDays float64      `json:"reorder_interval_days"`
	Categories          []string     `json:"categories"`
	SKUs                []string     `json:"skus"`
	MarketingConsent    bool         `json:"marketing_consent"`
	OptedOutCategories  []string     `json:"opted_out_categories"`
	Birthday            string       `json:"birthday,omitempty"`
	PointsBalance       int64        `json:"points_balance"`
	Tier                string       `json:"tier,omitempty"`
	ReferralCode        string       `json:"referral_code,omitempty"`
	ReferredBy          string       `json:"referred_by,omitempty"`
	Holdout             bool         `json:"holdout"`
	CreatedAt           time.Time    `json:"created_at"`
	// Satisfaction: the latest rating, NPS, CSAT and the open complaints,
	// which decide whether marketing waits.
	models.Satisfaction
}

func (s *server) getCustomer(c *gin.Context) {
	shop, p, ok := s.customer(c, "profile")
	if !ok {
		return
	}
	ids, err := s.Customers.Identities(c.Request.Context(), shop, p.CustomerID)
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
		ID: p.PublicID, Shop: shop.Key, Name: p.Name, Stage: p.Stage, Identities: toIdentities(ids), OrderCount: p.OrderCount,
		PositiveOrderCount: p.PositiveOrderCount, ReturnCount: p.ReturnCount, TotalSpent: models.FormatCents(p.TotalSpentCents),
		Currency: p.Currency, FirstOrderAt: p.FirstOrderAt, LastOrderAt: p.LastOrderAt, ReorderIntervalDays: p.ReorderIntervalDays,
		Categories: nonNil(p.Categories), SKUs: nonNil(p.SKUs), MarketingConsent: p.MarketingConsent,
		OptedOutCategories: nonNil(p.OptedOutCategories), Birthday: p.Birthday, PointsBalance: balance, Tier: tier,
		ReferralCode: p.ReferralCode, ReferredBy: p.ReferredBy, Holdout: p.Holdout, CreatedAt: p.CreatedAt,
		Satisfaction: p.Satisfaction,
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

func toTimelineItem(it *support.Item) timelineItem {
	out := timelineItem{Kind: it.Kind, ID: it.ID, Type: it.Type, At: it.At, ReceivedAt: it.ReceivedAt, Platform: it.Platform,
		OrderRef: it.OrderRef, Summary: it.Summary, Data: it.Data, OrderNumber: it.OrderNumber, Status: it.Status,
		DueAt: it.DueAt, SentAt: it.SentAt, RuleID: it.RuleID, RulesVersion: it.RulesVersion, Attempts: it.Attempts,
		Reason: it.Reason, Params: it.Params, Why: it.Why, Waiting: it.Waiting}
	if t := it.Trigger; t != nil {
		out.TriggerEvent = &triggerRef{ID: t.ID, Type: t.Type}
	}
	return out
}

func (s *server) getTimeline(c *gin.Context) {
	q := support.TimelineQuery{Limit: 50}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
				Detail: "limit must be a whole number from 1 to 200.", Errors: []models.FieldError{{Field: "limit", Message: "must be 1-200"}}})
			return
		}
		q.Limit = n
	}
	if v := c.Query("cursor"); v != "" {
		cur, err := support.ParseCursor(v)
		if err != nil {
			writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
				Detail: "cursor is not one this API returned.", Errors: []models.FieldError{{Field: "cursor", Message: "is invalid"}}})
			return
		}
		q.After = cur
	}
	types, err := support.ParseTypes(c.Query("types"))
	if err != nil {
		writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
			Detail: err.Error(), Errors: []models.FieldError{{Field: "types", Message: err.Error()}}})
		return
	}
	q.Types = types
	shop, id, ok := s.customerID(c, "timeline")
	if !ok {
		return
	}
	page, err := s.Customers.Timeline(c.Request.Context(), shop, id, q)
	if err != nil {
		s.writeError(c, err)
		return
	}
	items := make([]timelineItem, len(page.Items))
	for i := range page.Items {
		items[i] = toTimelineItem(&page.Items[i])
	}
	c.JSON(http.StatusOK, timelinePage{Items: items, NextCursor: page.Next})
}

type timelinePage struct {
	Items      []timelineItem `json:"items"`
	NextCursor string         `json:"next_cursor,omitempty"`
}
