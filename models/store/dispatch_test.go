package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
)

// dispatchFixture is a store with a shop and a customer on a fixed clock.
type dispatchFixture struct {
	t      *testing.T
	s      *store.Store
	driver string
	dsn    string
	clock  *storetest.Clock
	shopID int64
	custID int64
	seq    int
}

func newDispatchFixture(t *testing.T, driver string) *dispatchFixture {
	t.Helper()
	ctx := context.Background()
	dsn := storetest.DSN(t, driver)
	s := storetest.OpenDSN(t, driver, dsn)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock := storetest.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	s.Now = clock.Now
	sh := &models.Shop{Key: "acme", Platform: models.PlatformStandard, Source: "cli"}
	if err := s.SaveShop(ctx, sh); err != nil {
		t.Fatal(err)
	}
	f := &dispatchFixture{t: t, s: s, driver: driver, dsn: dsn, clock: clock, shopID: sh.ID}
	f.custID = f.customer(sh.ID, "c-1")
	return f
}

func (f *dispatchFixture) shop(key string) int64 {
	f.t.Helper()
	sh := &models.Shop{Key: key, Platform: models.PlatformStandard, Source: "cli"}
	if err := f.s.SaveShop(context.Background(), sh); err != nil {
		f.t.Fatal(err)
	}
	return sh.ID
}

func (f *dispatchFixture) customer(shopID int64, id string) int64 {
	f.t.Helper()
	var custID int64
	err := f.s.InTx(context.Background(), func(tx *store.Store) error {
		var err error
		custID, _, err = tx.ResolveCustomer(context.Background(), shopID, models.CustomerRef{ID: id, Email: id + "@example.org"})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return custID
}

// action plans a scheduled action of shopID due at due.
func (f *dispatchFixture) action(shopID int64, due time.Time) models.Action {
	f.t.Helper()
	f.seq++
	a := models.Action{ShopID: shopID, CustomerID: f.custID, Type: models.ActionTagCustomer, Status: models.ActionScheduled,
		RuleID: "r", RulesVersion: "v1", DueAt: due, IdempotencyKey: fmt.Sprintf("k-%d", f.seq), Params: map[string]any{"tag": "vip"}}
	if ok, err := f.s.InsertAction(context.Background(), &a); err != nil || !ok {
		f.t.Fatalf("insert action: %v %v", ok, err)
	}
	return a
}

func (f *dispatchFixture) get(id int64) models.Action {
	f.t.Helper()
	a, err := f.s.ActionByID(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *dispatchFixture) claim(owner string, n int, skip ...int64) []models.Action {
	f.t.Helper()
	acts, err := f.s.ClaimActions(context.Background(), owner, n, time.Minute, skip)
	if err != nil {
		f.t.Fatal(err)
	}
	return acts
}

func ids(acts []models.Action) []int64 {
	out := make([]int64, len(acts))
	for i, a := range acts {
		out[i] = a.ID
	}
	return out
}

func sameIDs(got []models.Action, want ...int64) bool {
	g := ids(got)
	if len(g) != len(want) {
		return false
	}
	for i := range g {
		if g[i] != want[i] {
			return false
		}
	}
	return true
}

// wantApplied checks the (applied, err) of a state change.
func wantApplied(t *testing.T, want bool) func(bool, error) {
	return func(applied bool, err error) {
		t.Helper()
		if err != nil || applied != want {
			t.Fatalf("applied=%v err=%v, want applied=%v", applied, err, want)
		}
	}
}

func TestClaimActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f := newDispatchFixture(t, driver)
		now := f.clock.Now()
		other := f.shop("other")
		a1 := f.action(f.shopID, now.Add(-2*time.Minute))
		a2 := f.action(f.shopID, now.Add(-time.Minute))
		f.action(f.shopID, now.Add(time.Hour)) // not due
		b1 := f.action(other, now.Add(-3*time.Minute))

		t.Run("SkipsShops", func(t *testing.T) {
			got := f.claim("A", 10, other)
			if !sameIDs(got, a1.ID, a2.ID) {
				t.Fatalf("claimed %v, want [%d %d]", ids(got), a1.ID, a2.ID)
			}
			for _, a := range got {
				if a.Status != models.ActionSending || a.Attempts != 1 {
					t.Fatalf("claimed %+v, want sending with attempt 1", a)
				}
			}
			if got := f.claim("B", 10, other); len(got) != 0 {
				t.Fatalf("leased actions claimed again: %v", ids(got))
			}
			if got := f.claim("B", 10); !sameIDs(got, b1.ID) {
				t.Fatalf("claimed %v, want [%d]", ids(got), b1.ID)
			}
		})
		t.Run("Complete", func(t *testing.T) {
			applied, err := f.s.CompleteAction(ctx, a1.ShopID, a1.ID, "A", "PROMO-1")
			wantApplied(t, true)(applied, err)
			a := f.get(a1.ID)
			if a.Status != models.ActionSent || a.SentAt == nil || !a.SentAt.Equal(now) {
				t.Fatalf("after complete: %+v", a)
			}
			applied, err = f.s.CompleteAction(ctx, a1.ShopID, a1.ID, "A", "")
			wantApplied(t, false)(applied, err)
		})
		t.Run("LeaseExpiry", func(t *testing.T) {
			f.clock.Add(59 * time.Second)
			if got := f.claim("C", 10); len(got) != 0 {
				t.Fatalf("claimed %v before the lease expired", ids(got))
			}
			f.clock.Add(2 * time.Second)
			got := f.claim("C", 10)
			// b1 was leased to B at the same time; both leases have expired.
			if !sameIDs(got, a2.ID, b1.ID) || got[0].Attempts != 2 {
				t.Fatalf("claimed %+v, want a2 and b1, a2 at attempt 2", got)
			}
			// A's late results do not overwrite C's lease.
			wantApplied(t, false)(f.s.CompleteAction(ctx, a2.ShopID, a2.ID, "A", "late"))
			wantApplied(t, false)(f.s.RetryAction(ctx, a2.ShopID, a2.ID, "A", now, "late"))
			wantApplied(t, false)(f.s.KillAction(ctx, a2.ShopID, a2.ID, "A", "late"))
			wantApplied(t, false)(f.s.ReleaseAction(ctx, a2.ShopID, a2.ID, "A", now))
			if a := f.get(a2.ID); a.Status != models.ActionSending {
				t.Fatalf("late worker changed the action: %+v", a)
			}
			wantApplied(t, true)(f.s.CompleteAction(ctx, a2.ShopID, a2.ID, "C", ""))
			wantApplied(t, true)(f.s.CompleteAction(ctx, b1.ShopID, b1.ID, "C", ""))
		})
	})
}

func TestRetryAndKill(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f := newDispatchFixture(t, driver)
		now := f.clock.Now()
		a := f.action(f.shopID, now)
		f.claim("A", 1)
		wantApplied(t, true)(f.s.RetryAction(ctx, a.ShopID, a.ID, "A", now.Add(10*time.Minute), "transient: status 503: down"))
		got := f.get(a.ID)
		if got.Status != models.ActionRetrying || got.Attempts != 1 || got.Reason != "transient: status 503: down" {
			t.Fatalf("after retry: %+v", got)
		}
		if c := f.claim("A", 1); len(c) != 0 {
			t.Fatal("claimed before its next attempt")
		}
		f.clock.Add(10 * time.Minute)
		if c := f.claim("A", 1); !sameIDs(c, a.ID) || c[0].Attempts != 2 {
			t.Fatalf("claimed %+v, want attempt 2", c)
		}
		t.Run("ReleaseKeepsRetrying", func(t *testing.T) {
			wantApplied(t, true)(f.s.ReleaseAction(ctx, a.ShopID, a.ID, "A", f.clock.Now().Add(time.Minute)))
			got := f.get(a.ID)
			if got.Status != models.ActionRetrying || got.Attempts != 1 {
				t.Fatalf("after release: %+v", got)
			}
			f.clock.Add(time.Minute)
			if c := f.claim("A", 1); !sameIDs(c, a.ID) {
				t.Fatalf("claimed %v", ids(c))
			}
		})
		t.Run("KillAndRetryDead", func(t *testing.T) {
			wantApplied(t, true)(f.s.KillAction(ctx, a.ShopID, a.ID, "A", "permanent: status 400: bad tag"))
			dead, err := f.s.ListActions(ctx, f.shopID, string(models.ActionDead), 10, 0)
			if err != nil || !sameIDs(dead, a.ID) || dead[0].Reason != "permanent: status 400: bad tag" {
				t.Fatalf("dead: %+v %v", dead, err)
			}
			wantApplied(t, true)(f.s.RetryDeadAction(ctx, a.ID))
			got := f.get(a.ID)
			if got.Status != models.ActionScheduled || got.Attempts != 0 || got.Reason != "" {
				t.Fatalf("after retry dead: %+v", got)
			}
			wantApplied(t, false)(f.s.RetryDeadAction(ctx, a.ID))
			if c := f.claim("A", 1); !sameIDs(c, a.ID) || c[0].Attempts != 1 {
				t.Fatalf("claimed %+v, want a fresh first attempt", c)
			}
			if _, err := f.s.ReleaseActions(ctx, "A"); err != nil {
				t.Fatal(err)
			}
			if ok, err := f.s.CancelAction(ctx, a.ID, "support"); err != nil || !ok {
				t.Fatalf("cancel: %v %v", ok, err)
			}
		})
	})
}

func TestReleaseActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f := newDispatchFixture(t, driver)
		now := f.clock.Now()
		for range 3 {
			f.action(f.shopID, now)
		}
		mine := f.claim("A", 2)
		theirs := f.claim("B", 5)
		if len(mine) != 2 || len(theirs) != 1 {
			t.Fatalf("claimed %d and %d", len(mine), len(theirs))
		}
		n, err := f.s.ReleaseActions(ctx, "A")
		if err != nil || n != 2 {
			t.Fatalf("released %d, %v", n, err)
		}
		for _, a := range mine {
			if got := f.get(a.ID); got.Status != models.ActionScheduled || got.Attempts != 0 {
				t.Fatalf("released action: %+v", got)
			}
		}
		if got := f.get(theirs[0].ID); got.Status != models.ActionSending {
			t.Fatalf("another owner's claim was released: %+v", got)
		}
		if got := f.claim("C", 5); !sameIDs(got, ids(mine)...) {
			t.Fatalf("released actions not claimable: %v", ids(got))
		}
	})
}

func TestAttemptsAndLookups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f := newDispatchFixture(t, driver)
		a := f.action(f.shopID, f.clock.Now())
		for i, o := range []string{store.AttemptTransient, store.AttemptOK} {
			err := f.s.RecordAttempt(ctx, &models.Attempt{ShopID: f.shopID, ActionID: a.ID, AttemptNo: i + 1,
				StartedAt: f.clock.Now(), DurationMS: 12, StatusCode: 503 - 303*i, Outcome: o, Summary: "s"})
			if err != nil {
				t.Fatal(err)
			}
		}
		atts, err := f.s.ActionAttempts(ctx, a.ID)
		if err != nil || len(atts) != 2 || atts[0].Outcome != store.AttemptTransient || atts[1].StatusCode != 200 || atts[1].AttemptNo != 2 {
			t.Fatalf("attempts %+v %v", atts, err)
		}
		got, err := f.s.ActionByPublicID(ctx, a.PublicID)
		if err != nil || got.ID != a.ID || got.Params["tag"] != "vip" {
			t.Fatalf("by public id: %+v %v", got, err)
		}
		if _, err := f.s.ActionByPublicID(ctx, "nope"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown public id: %v", err)
		}
		idents, prof, err := f.s.ActionCustomer(ctx, a.ShopID, a.CustomerID)
		if err != nil || len(idents) != 2 || prof == nil || prof.CustomerID != a.CustomerID {
			t.Fatalf("customer: %+v %+v %v", idents, prof, err)
		}
		if _, _, err := f.s.ActionCustomer(ctx, a.ShopID, 9999); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown customer: %v", err)
		}
	})
}

func TestListActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f := newDispatchFixture(t, driver)
		other := f.shop("other")
		var want []int64
		for i := range 5 {
			want = append(want, f.action(f.shopID, f.clock.Now()).ID)
			if i == 2 {
				f.action(other, f.clock.Now())
			}
		}
		var got []int64
		after := int64(0)
		for {
			page, err := f.s.ListActions(ctx, f.shopID, string(models.ActionScheduled), 2, after)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, ids(page)...)
			after = page[len(page)-1].ID
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("paged %v, want %v", got, want)
		}
		all, err := f.s.ListActions(ctx, 0, "", 0, 0)
		if err != nil || len(all) != 6 {
			t.Fatalf("all shops: %d %v", len(all), err)
		}
		none, err := f.s.ListActions(ctx, f.shopID, string(models.ActionDead), 10, 0)
		if err != nil || len(none) != 0 {
			t.Fatalf("dead: %d %v", len(none), err)
		}
	})
}

// TestClaimActions_Concurrent has two stores (two pools, as two processes
// would) claim and complete the same actions at once: each is sent once.
func TestClaimActions_Concurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f := newDispatchFixture(t, driver)
		const n = 120
		for range n {
			f.action(f.shopID, f.clock.Now().Add(-time.Second))
		}
		second := storetest.OpenDSN(t, driver, f.dsn)
		second.Now = f.clock.Now
		var mu sync.Mutex
		seen := map[int64]string{}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			s := f.s
			if w%2 == 1 {
				s = second
			}
			owner := fmt.Sprintf("w%d", w)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					acts, err := s.ClaimActions(ctx, owner, 5, time.Minute, nil)
					if err != nil {
						errs <- err
						return
					}
					if len(acts) == 0 {
						return
					}
					for _, a := range acts {
						mu.Lock()
						if prev, dup := seen[a.ID]; dup {
							errs <- fmt.Errorf("action %d claimed by %s and %s", a.ID, prev, owner)
						}
						seen[a.ID] = owner
						mu.Unlock()
						if ok, err := s.CompleteAction(ctx, a.ShopID, a.ID, owner, ""); err != nil || !ok {
							errs <- fmt.Errorf("complete %d: %v %v", a.ID, ok, err)
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(seen) != n {
			t.Fatalf("sent %d actions, want %d", len(seen), n)
		}
	})
}
