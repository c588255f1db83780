package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/treue/treue/models"
)

type customerRow struct {
	ShopID             int64
	ID                 int64
	PublicID           string
	Stage              string
	OrderCount         int
	PositiveOrderCount int
	TotalSpentCents    int64
	LastOrderAt        *time.Time
	MarketingConsent   bool
	Profile            string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

func (customerRow) TableName() string { return "customers" }

type identityRow struct {
	ShopID     int64
	Kind       string
	Value      string
	CustomerID int64
	CreatedAt  time.Time
}

func (identityRow) TableName() string { return "customer_identities" }

// ErrRetry marks a conflict with a concurrent transaction; the caller retries
// the whole transaction. It matches models.ErrUnavailable.
var ErrRetry = fmt.Errorf("concurrent update: %w", models.ErrUnavailable)

// ResolveCustomer finds the customer ref names, creating one when none matches,
// links identities the customer did not have yet, and locks the customer row
// for the rest of the transaction (per-customer ordering across replicas).
// Matching prefers the shop's customer id, then the customer number, then the
// e-mail; a weaker match is refused when the candidate already has a different
// stronger identity (a guest and an account sharing an e-mail stay apart).
func (s *Store) ResolveCustomer(ctx context.Context, shopID int64, ref models.CustomerRef) (id int64, publicID string, err error) {
	ids, public, err := s.resolveCustomers(ctx, []CustomerKey{{ShopID: shopID, Ref: ref}})
	if err != nil {
		return 0, "", err
	}
	return ids[0], public[0], nil
}

// createCustomer stores one customer and its identities, a statement each:
// createCustomers' way where the server's ids are not consecutive.
func (s *Store) createCustomer(ctx context.Context, shopID int64, publicID string, ids []models.Identity) (int64, string, error) {
	now := s.Now()
	c := customerRow{ShopID: shopID, PublicID: publicID, Stage: string(models.StageNew), Profile: "{}", CreatedAt: now, UpdatedAt: now}
	db := s.db.WithContext(ctx)
	if err := db.Create(&c).Error; err != nil {
		return 0, "", translate("create customer", err)
	}
	for _, x := range ids {
		err := db.Create(&identityRow{ShopID: shopID, Kind: x.Kind, Value: x.Value, CustomerID: c.ID, CreatedAt: now}).Error
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			// A concurrent transaction created the same customer first.
			return 0, "", fmt.Errorf("store: create customer: %w", ErrRetry)
		}
		if err != nil {
			return 0, "", translate("create identity", err)
		}
	}
	return c.ID, c.PublicID, nil
}

// EventRecord is a journey event as stored.
type EventRecord struct {
	ShopID     int64
	ID         int64
	CustomerID int64
	Type       string
	StepKey    string
	OccurredAt time.Time
	ReceivedAt time.Time
	Platform   string
	InboxID    int64
	DeliveryID string
	OrderRef   string
	Data       string
	// What the reports read, copied from Data by Describe so that they read
	// an index instead of decoding every event: an order's total, currency
	// and coupon (order.placed) or a refund's amount and currency
	// (refund.issued); whether the event flags its order as a test, and the
	// order's placement time where the event says.
	Amount    string
	Currency  string
	Coupon    string
	TestOrder bool
	PlacedAt  *time.Time
	described bool
}

func (EventRecord) TableName() string { return "events" }

// Describe copies what the event says about its order into the record's
// columns: the order reference, and the figures the reports read (an
// order's total, currency and coupon, a refund's amount and currency, the
// test flag and the placement time). A writer that has the decoded event
// calls it; for one that does not, inserting the record decodes Data and
// calls it, so the columns always agree with Data.
func (r *EventRecord) Describe(e *models.Event) {
	r.described = true
	if o := e.Data.Order; o != nil {
		r.OrderRef, r.TestOrder = Truncate(o.ID, 191), o.Test
		if p := o.PlacedAt; p != nil && !p.IsZero() {
			at := p.UTC()
			r.PlacedAt = &at
		}
		if e.Type == models.OrderPlaced {
			r.Amount, r.Currency = Truncate(string(o.Total), 32), Truncate(o.Currency, 8)
			r.Coupon = Truncate(strings.TrimSpace(o.Coupon), 191)
		}
	}
	if f := e.Data.Refund; f != nil && e.Type == models.RefundIssued {
		r.Amount, r.Currency = Truncate(string(f.Amount), 32), Truncate(f.Currency, 8)
	}
}

// BeforeCreate describes a record its writer did not describe.
func (r *EventRecord) BeforeCreate(*gorm.DB) error {
	if r.described {
		return nil
	}
	e, err := r.Event()
	if err != nil {
		return err
	}
	r.Describe(&e)
	return nil
}

// Truncate makes s valid UTF-8 of at most n bytes, cut at a character
// boundary: MySQL refuses invalid or cut characters in a text column, and a
// value stored on SQLite must be stored alike on MySQL (columns count
// characters; bytes are the stricter bound).
func Truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Event decodes the stored canonical event.
func (r *EventRecord) Event() (models.Event, error) {
	e := models.Event{Type: models.EventType(r.Type), Timestamp: r.OccurredAt}
	if err := json.Unmarshal([]byte(r.Data), &e.Data); err != nil {
		return e, fmt.Errorf("store: event %d data: %w", r.ID, err)
	}
	return e, nil
}

// InsertEvent appends a journey event unless its step is already recorded;
// inserted reports which.
func (s *Store) InsertEvent(ctx context.Context, r *EventRecord) (inserted bool, err error) {
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(r)
	if res.Error != nil {
		return false, translate("insert event", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// CustomerEvents returns a customer's journey in source-time order.
func (s *Store) CustomerEvents(ctx context.Context, customerID int64) ([]EventRecord, error) {
	var rs []EventRecord
	err := s.scoped(ctx, "events").Where("customer_id = ?", customerID).Order("occurred_at, id").Find(&rs).Error
	return rs, translate("customer events", err)
}

// Journey returns a customer's journey in source-time order: the stored
// rows and, index for index, their events decoded.
func (s *Store) Journey(ctx context.Context, customerID int64) ([]EventRecord, []models.Event, error) {
	recs, err := s.CustomerEvents(ctx, customerID)
	if err != nil {
		return nil, nil, err
	}
	history := make([]models.Event, len(recs))
	for i := range recs {
		if history[i], err = recs[i].Event(); err != nil {
			return nil, nil, err
		}
	}
	return recs, history, nil
}

// SaveProfile stores the derived profile of a customer.
func (s *Store) SaveProfile(ctx context.Context, p *models.Profile) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("store: profile: %w", err)
	}
	res := s.scoped(ctx, "customers").Model(&customerRow{}).Where("id = ?", p.CustomerID).Updates(map[string]any{
		"stage": string(p.Stage), "order_count": p.OrderCount, "positive_order_count": p.PositiveOrderCount,
		"total_spent_cents": p.TotalSpentCents, "last_order_at": p.LastOrderAt,
		"marketing_consent": p.MarketingConsent, "profile": string(b), "updated_at": s.Now(),
	})
	if res.Error != nil {
		return translate("save profile", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: save profile %d: %w", p.CustomerID, models.ErrNotFound)
	}
	return nil
}

// Profile loads a customer's stored profile.
func (s *Store) Profile(ctx context.Context, customerID int64) (*models.Profile, error) {
	var c customerRow
	if err := s.scoped(ctx, "customers").Where("id = ?", customerID).Take(&c).Error; err != nil {
		return nil, translate("profile", err)
	}
	return decodeProfile(&c)
}

func decodeProfile(c *customerRow) (*models.Profile, error) {
	p := &models.Profile{}
	if err := json.Unmarshal([]byte(c.Profile), p); err != nil {
		return nil, fmt.Errorf("store: profile %d: %w", c.ID, err)
	}
	p.CustomerID, p.PublicID = c.ID, c.PublicID
	if p.Stage == "" {
		p.Stage = models.Stage(c.Stage)
	}
	return p, nil
}

// CustomerIdentities lists how the shop names a customer.
func (s *Store) CustomerIdentities(ctx context.Context, customerID int64) ([]models.Identity, error) {
	var rows []identityRow
	if err := s.scoped(ctx, "customer_identities").Where("customer_id = ?", customerID).Order("kind, value").Find(&rows).Error; err != nil {
		return nil, translate("customer identities", err)
	}
	out := make([]models.Identity, len(rows))
	for i, r := range rows {
		out[i] = models.Identity{Kind: r.Kind, Value: r.Value}
	}
	return out, nil
}

// CustomerByIdentity finds the customer a shop names kind=value.
func (s *Store) CustomerByIdentity(ctx context.Context, shopID int64, kind, value string) (*models.Profile, error) {
	var r identityRow
	err := s.db.WithContext(ctx).Where("shop_id = ? AND kind = ? AND value = ?", shopID, kind, value).Take(&r).Error
	if err != nil {
		return nil, translate("customer by identity", err)
	}
	return s.Profile(ctx, r.CustomerID)
}

// CustomerRef names one customer for a scan.
type CustomerRef struct {
	ShopID int64
	ID     int64
}

// CustomersAfter pages through all customers by id (one shop's on a store
// scoped with ForShop), for the daily scan.
func (s *Store) CustomersAfter(ctx context.Context, afterID int64, limit int) ([]CustomerRef, error) {
	var out []CustomerRef
	err := s.scoped(ctx, "customers").Model(&customerRow{}).Select("shop_id, id").Where("id > ?", afterID).Order("id").Limit(limit).Scan(&out).Error
	return out, translate("customers after", err)
}

// LockCustomer locks a customer row for the rest of the transaction.
func (s *Store) LockCustomer(ctx context.Context, id int64) error {
	var c customerRow
	cond, shop := s.shopCond("customers")
	if err := s.db.WithContext(ctx).Raw("SELECT * FROM customers"+s.byPrimary()+" WHERE id = ?"+cond+s.forUpdate(false), append([]any{id}, shop...)...).Scan(&c).Error; err != nil {
		return translate("lock customer", err)
	}
	if c.ID == 0 {
		return fmt.Errorf("store: lock customer %d: %w", id, models.ErrNotFound)
	}
	return nil
}
