package store

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/security"
)

// TestInsertEvents_SteppedIDs: where the server steps ids by more than one,
// the batch writers insert row by row and still hand back each row's id.
func TestInsertEvents_SteppedIDs(t *testing.T) {
	ctx := context.Background()
	s, shop, cust := sqliteWithCustomer(t, Config{}, nil, models.CustomerRef{ID: "c"})
	for _, step := range []int64{1, 2} {
		s.idStep = step
		at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		var rs []*EventRecord
		for i := range 3 {
			rs = append(rs, &EventRecord{ShopID: shop.ID, CustomerID: cust, Type: string(models.OrderPaid),
				StepKey: fmt.Sprintf("s%d-%d", step, i), OccurredAt: at, ReceivedAt: at, Platform: "standard", Data: "{}"})
		}
		if err := s.InsertEvents(ctx, rs); err != nil {
			t.Fatal(err)
		}
		stored, err := s.CustomerEvents(ctx, cust)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]int64{}
		for _, r := range stored {
			ids[r.StepKey] = r.ID
		}
		for _, r := range rs {
			if r.ID == 0 || ids[r.StepKey] != r.ID {
				t.Errorf("step %d: %s has id %d, stored %d", step, r.StepKey, r.ID, ids[r.StepKey])
			}
		}
	}
}

// TestResolveCustomers_CreatesInOneGo: the customers a batch meets for the
// first time are created together, also where the server steps ids by more
// than one; a new customer met again in the batch with another identity
// gets it too, and the batch hands back every customer's stored id.
func TestResolveCustomers_CreatesInOneGo(t *testing.T) {
	ctx := context.Background()
	s, shop, _ := sqliteWithCustomer(t, Config{}, nil, models.CustomerRef{ID: "known"})
	for _, step := range []int64{1, 2} {
		s.idStep = step
		p := fmt.Sprintf("s%d-", step)
		keys := []CustomerKey{
			{ShopID: shop.ID, Ref: models.CustomerRef{ID: p + "a"}},
			{ShopID: shop.ID, Ref: models.CustomerRef{ID: "known"}},
			{ShopID: shop.ID, Ref: models.CustomerRef{ID: p + "b", Email: p + "b@example.org"}},
			{ShopID: shop.ID, Ref: models.CustomerRef{ID: p + "a", Email: p + "a@example.org"}}, // a again, now with an e-mail
			{ShopID: shop.ID, Ref: models.CustomerRef{Email: p + "b@example.org"}},
		}
		var ids []int64
		err := s.InTx(ctx, func(tx *Store) error {
			var err error
			ids, err = tx.ResolveCustomers(ctx, keys)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if ids[0] != ids[3] || ids[2] != ids[4] || ids[0] == ids[2] || ids[1] == ids[0] || slices.Contains(ids, 0) {
			t.Fatalf("step %d: ids %v", step, ids)
		}
		for i, want := range map[int][]string{0: {"email:" + p + "a@example.org", "id:" + p + "a"}, 2: {"email:" + p + "b@example.org", "id:" + p + "b"}} {
			got, err := s.CustomerIdentities(ctx, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, x := range got {
				names = append(names, x.Kind+":"+x.Value)
			}
			slices.Sort(names)
			if !slices.Equal(names, want) {
				t.Errorf("step %d: customer of key %d has %v, want %v", step, i, names, want)
			}
		}
	}
}

// TestSlowQuery_HandBuilt: the statements built without GORM are logged
// when slow, as GORM's are, with their shape and never their arguments.
func TestSlowQuery_HandBuilt(t *testing.T) {
	ctx := context.Background()
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s, shop, cust := sqliteWithCustomer(t, Config{SlowQuery: time.Nanosecond}, log, models.CustomerRef{ID: "c", Email: "secret.person@example.org"})
	logs.Reset()
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	if err := s.InsertEvents(ctx, []*EventRecord{{ShopID: shop.ID, CustomerID: cust, Type: string(models.CustomerRegistered), StepKey: "reg",
		OccurredAt: at, ReceivedAt: at, Platform: "standard", Data: `{"customer":{"id":"c","email":"secret.person@example.org"}}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EventsOf(ctx, []int64{cust}); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{`sql="INSERT INTO events `, `sql="SELECT events.shop_id, events.id`} {
		if !strings.Contains(out, want) {
			t.Errorf("no slow-query line with %s in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret.person") {
		t.Errorf("a slow-query line carries an argument:\n%s", out)
	}
}

// sqliteWithCustomer opens a migrated SQLite store with cfg's settings, a
// shop and one customer of it.
func sqliteWithCustomer(t *testing.T, cfg Config, log *slog.Logger, ref models.CustomerRef) (*Store, *models.Shop, int64) {
	t.Helper()
	ctx := context.Background()
	sealer, err := security.NewSealer(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Driver, cfg.DSN = "sqlite", filepath.Join(t.TempDir(), "t.db")
	s, err := Open(ctx, cfg, sealer, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	shop := &models.Shop{Key: "s", Platform: models.PlatformStandard, Source: "cli"}
	if err := s.SaveShop(ctx, shop); err != nil {
		t.Fatal(err)
	}
	cust, _, err := s.ResolveCustomer(ctx, shop.ID, ref)
	if err != nil {
		t.Fatal(err)
	}
	return s, shop, cust
}
