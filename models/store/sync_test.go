package store_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
)

// TestSyncLease: of several owners racing for a shop's sync lease (the row
// does not exist yet, so they race on the INSERT too), exactly one holds
// it; the others get it once it is released or has expired, and a holder
// that lost it cannot save progress.
func TestSyncLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := storetest.Open(t, driver)
		now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		s.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		const owners = 6
		var wg sync.WaitGroup
		won := make(chan string, owners)
		for i := range owners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := "replica-" + strconv.Itoa(i)
				_, err := s.AcquireSync(ctx, 1, store.SyncReconcile, owner, time.Minute)
				switch {
				case err == nil:
					won <- owner
				case !errors.Is(err, store.ErrLeaseHeld) && !errors.Is(err, store.ErrDeadlock):
					t.Errorf("%s: %v", owner, err)
				}
			}()
		}
		wg.Wait()
		close(won)
		var winners []string
		for w := range won {
			winners = append(winners, w)
		}
		if len(winners) != 1 {
			t.Fatalf("lease holders: %v, want exactly one", winners)
		}
		holder := winners[0]
		if _, err := s.AcquireSync(ctx, 1, store.SyncReconcile, "late", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
			t.Fatalf("while held: %v", err)
		}
		// The holder renews its own lease.
		if _, err := s.AcquireSync(ctx, 1, store.SyncReconcile, holder, time.Minute); err != nil {
			t.Fatalf("renewal: %v", err)
		}
		// Expired (the holder crashed), it goes to the next one asking.
		mu.Lock()
		now = now.Add(2 * time.Minute)
		mu.Unlock()
		if _, err := s.AcquireSync(ctx, 1, store.SyncReconcile, "late", time.Minute); err != nil {
			t.Fatalf("after expiry: %v", err)
		}
		err := s.InTx(ctx, func(tx *store.Store) error {
			return tx.SaveSync(ctx, 1, store.SyncReconcile, holder, store.SyncProgress{PageCursor: "2", Orders: 100}, time.Minute)
		})
		if !errors.Is(err, store.ErrLeaseHeld) {
			t.Fatalf("save by the owner that lost the lease: %v", err)
		}
		if err := s.ReleaseSync(ctx, 1, store.SyncReconcile, "late"); err != nil {
			t.Fatal(err)
		}
		st, err := s.AcquireSync(ctx, 1, store.SyncReconcile, holder, time.Minute)
		if err != nil || st.Orders != 0 || st.PageCursor != "" {
			t.Fatalf("after release: %+v, %v", st, err)
		}
	})
}
