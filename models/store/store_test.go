package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
)

func TestMigrate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := storetest.OpenEmpty(t, driver)
		t.Run("ErrBehind", func(t *testing.T) {
			err := s.CheckSchema(ctx)
			if err == nil || !strings.Contains(err.Error(), "treue migrate") {
				t.Fatalf("empty schema must be refused naming the command, got %v", err)
			}
		})
		t.Run("OK", func(t *testing.T) {
			v, err := s.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := s.LatestVersion()
			if v != want || v < 1 {
				t.Fatalf("reached %d, want %d", v, want)
			}
			if err := s.CheckSchema(ctx); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("RerunIsNoop", func(t *testing.T) {
			v, err := s.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := s.SchemaVersion(ctx); got != v {
				t.Fatalf("version %d after rerun, want %d", got, v)
			}
		})
	})
}

func TestMigrate_Concurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		dsn := storetest.DSN(t, driver)
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			s := storetest.OpenDSN(t, driver, dsn)
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Migrate(context.Background())
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestShops(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := storetest.Open(t, driver)
		sh := &models.Shop{Key: "acme", Platform: models.PlatformStandard, Name: "ACME", Timezone: "Europe/Berlin", Currency: "EUR",
			Source: "cli", Secrets: models.ShopSecrets{Webhook: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		if err := s.SaveShop(ctx, sh); err != nil {
			t.Fatal(err)
		}
		got, err := s.ShopByKey(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if got.Secrets.Webhook[0] != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" || got.Timezone != "Europe/Berlin" {
			t.Fatalf("round trip: %+v", got)
		}
		t.Run("ErrDuplicateKey", func(t *testing.T) {
			dup := &models.Shop{Key: "acme", Platform: models.PlatformStandard, Source: "cli"}
			if err := s.SaveShop(ctx, dup); !errors.Is(err, models.ErrDuplicate) {
				t.Fatalf("got %v", err)
			}
		})
		t.Run("ByExternalID", func(t *testing.T) {
			sw := &models.Shop{Key: "sw-1", Platform: models.PlatformShopware, ExternalID: "AbC123", Source: "registration"}
			if err := s.SaveShop(ctx, sw); err != nil {
				t.Fatal(err)
			}
			got, err := s.ShopByExternalID(ctx, models.PlatformShopware, "AbC123")
			if err != nil || got.Key != "sw-1" {
				t.Fatalf("%v %v", got, err)
			}
			if _, err := s.ShopByExternalID(ctx, models.PlatformShopware, "abc123"); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("external ids are case-sensitive: %v", err)
			}
		})
		t.Run("Delete", func(t *testing.T) {
			if err := s.DeleteShop(ctx, "acme"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ShopByKey(ctx, "acme"); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("got %v", err)
			}
		})
	})
}

func TestInbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := storetest.Open(t, driver)
		it := &store.InboxItem{ShopID: 1, Platform: "standard", DeliveryID: "msg_1", Topic: "order.placed", Headers: "{}", Body: []byte(`{}`)}
		dup, err := s.InsertInbox(ctx, it)
		if err != nil || dup {
			t.Fatalf("first insert: dup=%v err=%v", dup, err)
		}
		dup, err = s.InsertInbox(ctx, &store.InboxItem{ShopID: 1, Platform: "standard", DeliveryID: "msg_1", Headers: "{}"})
		if err != nil || !dup {
			t.Fatalf("second insert: dup=%v err=%v", dup, err)
		}
		n, _, err := s.InboxBacklog(ctx)
		if err != nil || n != 1 {
			t.Fatalf("backlog %d %v", n, err)
		}
		err = s.InTx(ctx, func(tx *store.Store) error {
			items, err := tx.ClaimInbox(ctx, 10)
			if err != nil {
				return err
			}
			if len(items) != 1 || string(items[0].Body) != "{}" {
				t.Fatalf("claimed %+v", items)
			}
			return tx.FinishInbox(ctx, items[0].ID)
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, _, _ := s.InboxBacklog(ctx); n != 0 {
			t.Fatalf("backlog after finish: %d", n)
		}
	})
}

func TestResolveCustomer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := storetest.Open(t, driver)
		resolve := func(ref models.CustomerRef) int64 {
			t.Helper()
			var id int64
			err := s.InTx(ctx, func(tx *store.Store) error {
				var err error
				id, _, err = tx.ResolveCustomer(ctx, 1, ref)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		a := resolve(models.CustomerRef{Number: "C1", Email: "Anna@Example.org"})
		if b := resolve(models.CustomerRef{Email: "anna@example.org "}); b != a {
			t.Fatalf("e-mail match must be case-insensitive: %d != %d", b, a)
		}
		if b := resolve(models.CustomerRef{ID: "c-77", Email: "anna@example.org"}); b != a {
			t.Fatalf("a fuller event must link to the same customer: %d != %d", b, a)
		}
		if b := resolve(models.CustomerRef{ID: "c-77"}); b != a {
			t.Fatalf("the linked id must find the customer: %d != %d", b, a)
		}
		if b := resolve(models.CustomerRef{ID: "c-99", Email: "anna@example.org"}); b == a {
			t.Fatal("a different shop customer id sharing the e-mail must stay a different customer")
		}
		if b := resolve(models.CustomerRef{ID: "c-77"}); b != a {
			t.Fatal("c-77 must still be Anna")
		}
		ids, err := s.CustomerIdentities(ctx, a)
		if err != nil || len(ids) != 3 {
			t.Fatalf("identities %v %v", ids, err)
		}
	})
}

// TestResolveCustomers resolves random references (ids, numbers, e-mails,
// in every combination, guests and accounts sharing e-mails) once in batches
// and once one by one: the same references must end up with the same
// customers, and each customer with the same identities.
func TestResolveCustomers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(3, 5))
		var refs []models.CustomerRef
		for range 400 {
			n := rng.IntN(40)
			var r models.CustomerRef
			for r.Empty() {
				if rng.IntN(2) == 0 {
					r.ID = fmt.Sprintf("c-%d", n)
				}
				if rng.IntN(3) == 0 {
					r.Number = fmt.Sprintf("N%d", n)
				}
				if rng.IntN(2) == 0 {
					r.Email = fmt.Sprintf("P%d@Example.org", n/2) // two people share a mailbox
				}
			}
			refs = append(refs, r)
		}
		// partition names each reference by the first reference that got the same customer,
		// and lists each customer's identities.
		partition := func(ids []int64, s *store.Store) []string {
			first := map[int64]int{}
			var out []string
			for i, id := range ids {
				if _, ok := first[id]; !ok {
					first[id] = i
				}
				idents, err := s.CustomerIdentities(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("ref %d → customer of ref %d %v", i, first[id], idents))
			}
			return out
		}
		one := storetest.Open(t, driver)
		var seq []int64
		for _, r := range refs {
			err := one.InTx(ctx, func(tx *store.Store) error {
				id, _, err := tx.ResolveCustomer(ctx, 1, r)
				seq = append(seq, id)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		many := storetest.Open(t, driver)
		var batched []int64
		for len(batched) < len(refs) {
			n := min(len(refs)-len(batched), 1+rng.IntN(60))
			keys := make([]store.CustomerKey, n)
			for i := range keys {
				keys[i] = store.CustomerKey{ShopID: 1, Ref: refs[len(batched)+i]}
			}
			err := many.InTx(ctx, func(tx *store.Store) error {
				ids, err := tx.ResolveCustomers(ctx, keys)
				batched = append(batched, ids...)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		want, got := partition(seq, one), partition(batched, many)
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("%+v:\none by one: %s\nbatched:    %s", refs[i], want[i], got[i])
			}
		}
	})
}
