package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
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
		it := &models.Delivery{ShopID: 1, Platform: "standard", DeliveryID: "msg_1", Topic: "order.placed", Headers: "{}", Body: []byte(`{}`)}
		dup, err := s.InsertInbox(ctx, it)
		if err != nil || dup {
			t.Fatalf("first insert: dup=%v err=%v", dup, err)
		}
		dup, err = s.InsertInbox(ctx, &models.Delivery{ShopID: 1, Platform: "standard", DeliveryID: "msg_1", Headers: "{}"})
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

// TestResolveCustomers_ByOrder: an event naming a known order resolves to
// the order's customer, links what agrees with them and nothing that
// contradicts; a follow-up waiting for an unknown order gets 0.
func TestResolveCustomers_ByOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := storetest.Open(t, driver)
		resolve := func(keys ...store.CustomerKey) []int64 {
			t.Helper()
			var ids []int64
			if err := s.InTx(ctx, func(tx *store.Store) error {
				var err error
				ids, err = tx.ResolveCustomers(ctx, keys)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return ids
		}
		// An order placed by account c-1 with john@, and in the same batch a
		// fulfillment naming only the order's e-mail jon@.
		got := resolve(
			store.CustomerKey{ShopID: 1, Ref: models.CustomerRef{ID: "c-1", Email: "john@example.com"}, Order: "o-1"},
			store.CustomerKey{ShopID: 1, Ref: models.CustomerRef{Email: "jon@example.com"}, Order: "o-1", WaitForOrder: true},
		)
		if got[0] == 0 || got[1] != got[0] {
			t.Fatalf("the follow-up in the same batch went to %d, the order's customer is %d", got[1], got[0])
		}
		john := got[0]
		if err := s.InTx(ctx, func(tx *store.Store) error {
			_, err := tx.InsertEvent(ctx, &store.EventRecord{ShopID: 1, CustomerID: john, Type: "order.placed", StepKey: "o-1",
				OccurredAt: s.Now(), ReceivedAt: s.Now(), Platform: "shopify", OrderRef: "o-1", Data: "{}"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		got = resolve(
			store.CustomerKey{ShopID: 1, Ref: models.CustomerRef{Email: "jon@example.com"}, Order: "o-1"},
			store.CustomerKey{ShopID: 1, Ref: models.CustomerRef{ID: "c-2"}, Order: "o-1"},
			store.CustomerKey{ShopID: 1, Ref: models.CustomerRef{ID: "c-1", Number: "K-1"}, Order: "o-1"},
			store.CustomerKey{ShopID: 1, Ref: models.CustomerRef{Email: "jon@example.com"}, Order: "o-2", WaitForOrder: true},
			store.CustomerKey{ShopID: 1, Order: "o-3"},
			store.CustomerKey{ShopID: 2, Ref: models.CustomerRef{Email: "jon@example.com"}, Order: "o-1"},
		)
		if got[0] != john || got[1] != john || got[2] != john {
			t.Fatalf("events of the known order went to %v, want %d", got[:3], john)
		}
		if got[3] != 0 || got[4] != 0 {
			t.Fatalf("unknown orders resolved to %v, want 0 (waiting)", got[3:5])
		}
		if got[5] == 0 || got[5] == john {
			t.Fatalf("another shop's order o-1 went to %d", got[5])
		}
		ids, _ := s.CustomerIdentities(ctx, john)
		var kinds []string
		for _, x := range ids {
			kinds = append(kinds, x.Kind+"="+x.Value)
		}
		slices.Sort(kinds)
		if want := []string{"email=john@example.com", "id=c-1", "number=K-1"}; !slices.Equal(kinds, want) {
			t.Fatalf("identities %v, want %v: only what agrees with the customer is linked", kinds, want)
		}
	})
}

// TestFindCustomer: the strongest known identity decides, and a weaker one
// never widens to a customer whose stronger identity contradicts.
func TestFindCustomer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := storetest.Open(t, driver)
		var account, guest int64
		if err := s.InTx(ctx, func(tx *store.Store) error {
			var err error
			if account, _, err = tx.ResolveCustomer(ctx, 1, models.CustomerRef{ID: "115310627314723954", Email: "john@example.com"}); err != nil {
				return err
			}
			guest, _, err = tx.ResolveCustomer(ctx, 1, models.CustomerRef{Email: "guest@example.com"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			ref      models.CustomerRef
			want     int64
			by       string
			refusing bool
		}{
			{models.CustomerRef{ID: "115310627314723954", Email: "other@example.com"}, account, models.IdentityID, false},
			{models.CustomerRef{ID: "191167", Email: "john@example.com"}, 0, "", true},
			{models.CustomerRef{Email: "john@example.com"}, account, models.IdentityEmail, false},
			{models.CustomerRef{ID: "191167", Email: "guest@example.com"}, guest, models.IdentityEmail, false},
			{models.CustomerRef{ID: "191167"}, 0, "", false},
			{models.CustomerRef{Email: "john@example.com"}, account, models.IdentityEmail, false},
		} {
			m, err := s.FindCustomer(ctx, 1, c.ref)
			if err != nil {
				t.Fatal(err)
			}
			if m.CustomerID != c.want || m.By != c.by || (m.Refused != "") != c.refusing {
				t.Errorf("%+v: got %+v, want customer %d by %q (refusing: %v)", c.ref, m, c.want, c.by, c.refusing)
			}
		}
		if m, _ := s.FindCustomer(ctx, 2, models.CustomerRef{Email: "john@example.com"}); m.CustomerID != 0 {
			t.Fatalf("another shop's customer found: %+v", m)
		}
	})
}

// TestInsertInboxBatch_BodyHash: a delivery keyed by its body's hash is a
// duplicate when the hash is stored already or came earlier in the batch,
// whatever its delivery id; deliveries without a hash are keyed by id only.
func TestInsertInboxBatch_BodyHash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := storetest.Open(t, driver)
		h := func(v string) *string { return &v }
		item := func(id string, hash *string) *models.Delivery {
			return &models.Delivery{ShopID: 1, Platform: "shopify", DeliveryID: id, Headers: "{}", Body: []byte("{}"), BodyHash: hash}
		}
		if dup, err := s.InsertInbox(ctx, item("a", h("h1"))); err != nil || dup {
			t.Fatalf("first: %v %v", dup, err)
		}
		dup, err := s.InsertInboxBatch(ctx, []*models.Delivery{
			item("b", h("h1")), // stored already under another id
			item("c", h("h2")),
			item("d", h("h2")), // earlier in this batch
			item("e", nil),
			item("f", nil),
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, false, true, false, false}; !slices.Equal(dup, want) {
			t.Fatalf("duplicates %v, want %v", dup, want)
		}
		for _, id := range []string{"b", "d"} {
			if _, err := s.InboxByDelivery(ctx, 1, id); err == nil {
				t.Fatalf("replay %s was stored", id)
			}
		}
	})
}
