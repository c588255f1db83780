// Package support is what support staff read about one customer: the
// customer's timeline, a page at a time, each entry with a line that sums it
// up and, for an action, why it was planned and why it still waits; the
// customer's identities and profile; and the GDPR export document (Art. 15).
// The HTTP API (and the console, which reads it) and the CLI read through
// it, so that they all say the same. Every read of a customer is logged in
// the access log.
package support

import (
	"context"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// Store is what support reads. The reads of one customer name the shop too:
// on a keyspace sharded by shop (deploy/vitess) that routes them to its
// shard. Reads adapts a *store.Store.
type Store interface {
	ShopByKey(ctx context.Context, key string) (*models.Shop, error)
	FindCustomers(ctx context.Context, shopID int64, q string) ([]store.CustomerSummary, error)
	CustomerByPublicID(ctx context.Context, shopID int64, publicID string) (*models.Profile, time.Time, error)
	CustomerIDByPublicID(ctx context.Context, shopID int64, publicID string) (int64, error)
	CustomerIdentities(ctx context.Context, shopID, customerID int64) ([]models.Identity, error)
	Timeline(ctx context.Context, shopID, customerID int64, cur *store.Cursor, f store.TimelineFilter, limit int) ([]store.TimelineEntry, bool, error)
	// ExportCustomer reads everything about a customer, across shops.
	ExportCustomer(ctx context.Context, customerID int64) (*store.Export, error)
}

// AccessLog records who read a customer's data (audit.Log, which batches
// the writes).
type AccessLog interface {
	Record(ctx context.Context, a models.Access) error
}

// Dispatch says why an unsent action waits (dispatch off, no connector, the
// shop's circuit open, a failed attempt, due later).
type Dispatch interface {
	Waiting(shop *models.Shop, a *models.Action) string
}

// Service answers support's reads.
type Service struct {
	Store Store
	// Access logs every read of a customer (nil: none is logged).
	Access AccessLog
	// Dispatch explains waiting actions (nil: no explanation).
	Dispatch Dispatch
	// Shops finds shops by key for every read (nil: Store). serve passes
	// the intake's cache of a few seconds, so that a read does not cost a
	// statement for its shop.
	Shops ShopFinder
}

// ShopFinder finds a shop by its key.
type ShopFinder interface {
	ShopByKey(ctx context.Context, key string) (*models.Shop, error)
}

// Reads serves Store from st, each read of a customer on st scoped to its
// shop (store.ForShop).
func Reads(st *store.Store) Store { return reads{st} }

type reads struct{ *store.Store }

func (r reads) CustomerIdentities(ctx context.Context, shopID, customerID int64) ([]models.Identity, error) {
	return r.ForShop(shopID).CustomerIdentities(ctx, customerID)
}

func (r reads) Timeline(ctx context.Context, shopID, customerID int64, cur *store.Cursor, f store.TimelineFilter, limit int) ([]store.TimelineEntry, bool, error) {
	return r.ForShop(shopID).Timeline(ctx, customerID, cur, f, limit)
}

// ShopByKey finds a shop by its key.
func (s *Service) ShopByKey(ctx context.Context, key string) (*models.Shop, error) {
	if s.Shops == nil {
		return s.Store.ShopByKey(ctx, key)
	}
	shop, err := s.Shops.ShopByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	c := *shop // the cache's copy is shared with the intake
	return &c, nil
}

// Hit is one customer a search found.
type Hit struct {
	PublicID    string
	Stage       string
	Identities  []models.Identity
	OrderCount  int
	LastOrderAt *time.Time
}

// FindCustomers finds a shop's customers by e-mail (case-insensitive,
// exact), customer number or the shop's customer id, and logs that token
// read each ("search").
func (s *Service) FindCustomers(ctx context.Context, shop *models.Shop, q string, tokenID int64) ([]Hit, error) {
	found, err := s.Store.FindCustomers(ctx, shop.ID, q)
	if err != nil {
		return nil, err
	}
	out := make([]Hit, 0, len(found))
	for _, h := range found {
		if err := s.logAccess(ctx, shop.ID, tokenID, h.ID, "search"); err != nil {
			return nil, err
		}
		out = append(out, Hit{PublicID: h.PublicID, Stage: h.Stage, Identities: h.Identities, OrderCount: h.OrderCount, LastOrderAt: h.LastOrderAt})
	}
	return out, nil
}

// Customer is a customer's profile and when Treue first saw them.
type Customer struct {
	*models.Profile
	CreatedAt time.Time
}

// Customer loads a shop's customer by public id and logs that token read
// what of them ("profile", "timeline", "export", …). A customer the shop
// does not have is models.ErrNotFound.
func (s *Service) Customer(ctx context.Context, shop *models.Shop, publicID string, tokenID int64, what string) (*Customer, error) {
	p, created, err := s.Store.CustomerByPublicID(ctx, shop.ID, publicID)
	if err != nil {
		return nil, err
	}
	if err := s.logAccess(ctx, shop.ID, tokenID, p.CustomerID, what); err != nil {
		return nil, err
	}
	return &Customer{Profile: p, CreatedAt: created}, nil
}

// CustomerID finds a shop's customer by public id and logs the read, like
// Customer, without reading the profile: for reads that need only the id.
func (s *Service) CustomerID(ctx context.Context, shop *models.Shop, publicID string, tokenID int64, what string) (int64, error) {
	id, err := s.Store.CustomerIDByPublicID(ctx, shop.ID, publicID)
	if err != nil {
		return 0, err
	}
	if err := s.logAccess(ctx, shop.ID, tokenID, id, what); err != nil {
		return 0, err
	}
	return id, nil
}

// Identities lists the ways the shop names a customer, by kind and value.
func (s *Service) Identities(ctx context.Context, shop *models.Shop, customerID int64) ([]models.Identity, error) {
	return s.Store.CustomerIdentities(ctx, shop.ID, customerID)
}

func (s *Service) logAccess(ctx context.Context, shopID, tokenID, customerID int64, what string) error {
	if s.Access == nil {
		return nil
	}
	return s.Access.Record(ctx, models.Access{ShopID: shopID, TokenID: tokenID, CustomerID: customerID, What: what})
}
