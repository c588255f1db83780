package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/webhooks/inbox"
)

// startGC runs g until the test ends and closes it then.
func startGC(t *testing.T, g *inbox.GroupCommitter) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("group committer did not stop")
		}
	})
}

func inboxItem(shop int64, id string) *models.Delivery {
	return &models.Delivery{ShopID: shop, Platform: "standard", DeliveryID: id, Topic: "order.placed", Headers: "{}", Body: []byte(`{"id":"` + id + `"}`)}
}

// pending counts the deliveries in the inbox.
func pending(t *testing.T, st *store.Store) int64 {
	t.Helper()
	n, _, err := st.InboxBacklog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// countingWriter counts batches and lets a test refuse or hold them.
type countingWriter struct {
	next    inbox.InboxBatchWriter
	batches atomic.Int64
	largest atomic.Int64
	before  func(items []*models.Delivery) error
	after   func(items []*models.Delivery) error // replaces the answer of a write that succeeded
}

func (w *countingWriter) InsertInboxBatch(ctx context.Context, items []*models.Delivery) ([]bool, error) {
	w.batches.Add(1)
	for {
		l := w.largest.Load()
		if int64(len(items)) <= l || w.largest.CompareAndSwap(l, int64(len(items))) {
			break
		}
	}
	if w.before != nil {
		if err := w.before(items); err != nil {
			return nil, err
		}
	}
	dup, err := w.next.InsertInboxBatch(ctx, items)
	if err == nil && w.after != nil {
		if err := w.after(items); err != nil {
			return nil, err
		}
	}
	return dup, err
}

// Many concurrent senders, every delivery sent three times at once: each
// delivery is stored once, exactly one of its three senders hears "stored",
// and the commits are shared.
func TestGroupCommitter_Concurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		st := storetest.Open(t, driver)
		w := &countingWriter{next: st}
		g := &inbox.GroupCommitter{Store: w, MaxBatch: 32, MaxWait: 2 * time.Millisecond}
		startGC(t, g)

		const senders, perSender, copies = 24, 25, 3
		var stored sync.Map // delivery id -> *atomic.Int64 of "stored" answers
		var wg sync.WaitGroup
		errs := make(chan error, senders*copies)
		for s := range senders {
			for c := range copies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perSender {
						id := fmt.Sprintf("d-%d-%d", s, i)
						dup, err := g.InsertInbox(context.Background(), inboxItem(1+int64(s%2), id))
						if err != nil {
							errs <- fmt.Errorf("%s copy %d: %w", id, c, err)
							return
						}
						n, _ := stored.LoadOrStore(id, new(atomic.Int64))
						if !dup {
							n.(*atomic.Int64).Add(1)
						}
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		stored.Range(func(k, v any) bool {
			if n := v.(*atomic.Int64).Load(); n != 1 {
				t.Errorf("%s: %d senders were told stored, want 1", k, n)
			}
			return true
		})
		if got, want := pending(t, st), int64(senders*perSender); got != want {
			t.Fatalf("inbox holds %d deliveries, want %d", got, want)
		}
		total := int64(senders * perSender * copies)
		if b := w.batches.Load(); b >= total/2 {
			t.Errorf("%d deliveries took %d transactions: commits were hardly shared", total, b)
		}
		t.Logf("%d deliveries in %d transactions, largest %d", total, w.batches.Load(), w.largest.Load())
	})
}

// Copies of one delivery inside one batch, and a delivery stored before:
// the first copy is stored, every other answer is "duplicate".
func TestGroupCommitter_DuplicatesInBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		st := storetest.Open(t, driver)
		ctx := context.Background()
		if _, err := st.InsertInbox(ctx, inboxItem(1, "old")); err != nil {
			t.Fatal(err)
		}
		w := &countingWriter{next: st}
		// A long wait and a batch size of exactly the deliveries sent below
		// put them all into one transaction.
		g := &inbox.GroupCommitter{Store: w, MaxBatch: 7, MaxWait: 5 * time.Second, Committers: 1}
		startGC(t, g)
		ids := []string{"new", "new", "new", "old", "old", "other", "other"}
		dups := make([]bool, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := g.InsertInbox(ctx, inboxItem(1, id))
				if err != nil {
					t.Error(err)
				}
				dups[i] = d
			}()
		}
		wg.Wait()
		// Seven requests, one transaction, three distinct rows written.
		if b, l := w.batches.Load(), w.largest.Load(); b != 1 || l != 3 {
			t.Fatalf("%d batches, largest %d; want one batch of 3 distinct deliveries", b, l)
		}
		fresh := map[string]int{}
		for i, id := range ids {
			if !dups[i] {
				fresh[id]++
			}
		}
		if fresh["new"] != 1 || fresh["other"] != 1 || fresh["old"] != 0 {
			t.Fatalf("stored answers per id = %v, want new:1 other:1 old:0", fresh)
		}
		if got := pending(t, st); got != 3 {
			t.Fatalf("inbox holds %d deliveries, want 3", got)
		}
	})
}

// When the database is gone every waiter of the batch hears 503 and nothing
// is stored; the committer keeps running.
func TestGroupCommitter_DatabaseDown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		dsn := storetest.DSN(t, driver)
		check := storetest.OpenDSN(t, driver, dsn)
		if _, err := check.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		broken := storetest.OpenDSN(t, driver, dsn)
		broken.Close() // every query now fails
		g := &inbox.GroupCommitter{Store: broken, MaxBatch: 8, MaxWait: 20 * time.Millisecond}
		startGC(t, g)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := g.InsertInbox(context.Background(), inboxItem(1, fmt.Sprint("x", i)))
				if !errors.Is(err, models.ErrUnavailable) {
					t.Errorf("delivery %d: err = %v, want one matching models.ErrUnavailable", i, err)
				}
			}()
		}
		wg.Wait()
		if got := pending(t, check); got != 0 {
			t.Fatalf("inbox holds %d deliveries after a failed batch, want 0", got)
		}
	})
}

// The store's batch insert, which the group committer relies on, reports
// duplicates against stored rows and inside the batch itself.
func TestInsertInboxBatch_Duplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		st := storetest.Open(t, driver)
		ctx := context.Background()
		// (2, "b") is stored: the same id at another shop of the batch is new.
		for _, it := range []*models.Delivery{inboxItem(1, "old"), inboxItem(2, "b")} {
			if _, err := st.InsertInbox(ctx, it); err != nil {
				t.Fatal(err)
			}
		}
		items := []*models.Delivery{inboxItem(1, "a"), inboxItem(1, "old"), inboxItem(1, "a"), inboxItem(2, "a"), inboxItem(1, "b"), inboxItem(2, "b")}
		dup, err := st.InsertInboxBatch(ctx, items)
		if err != nil {
			t.Fatal(err)
		}
		want := []bool{false, true, true, false, false, true}
		if fmt.Sprint(dup) != fmt.Sprint(want) {
			t.Fatalf("dup = %v, want %v", dup, want)
		}
		if got := pending(t, st); got != 5 {
			t.Fatalf("inbox holds %d deliveries, want 5", got)
		}
	})
}

// Concurrent batches that overlap: each delivery is reported stored by
// exactly one of them (the group committer runs several transactions at once).
func TestInsertInboxBatch_Concurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		st := storetest.Open(t, driver)
		const writers, rounds, size = 6, 10, 12
		var stored [rounds * size]atomic.Int64
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range rounds {
					items := make([]*models.Delivery, size)
					for i := range items {
						// Every writer sends the same ids, in a different order.
						j := (i*(w+1) + w) % size
						items[i] = inboxItem(1, fmt.Sprint("k", r*size+j))
					}
					var dup []bool
					var err error
					for try := 0; try < 5; try++ { // a deadlock is an answer too: retry like the committer
						if dup, err = st.InsertInboxBatch(context.Background(), items); !errors.Is(err, models.ErrUnavailable) {
							break
						}
					}
					if err != nil {
						t.Error(err)
						return
					}
					for i, d := range dup {
						if !d {
							var n int
							fmt.Sscan(items[i].DeliveryID[1:], &n)
							stored[n].Add(1)
						}
					}
				}
			}()
		}
		wg.Wait()
		for i := range stored {
			if n := stored[i].Load(); n != 1 {
				t.Errorf("k%d reported stored %d times, want 1", i, n)
			}
		}
		if got := pending(t, st); got != rounds*size {
			t.Fatalf("inbox holds %d deliveries, want %d", got, rounds*size)
		}
	})
}

// A delivery the database refuses (not an outage) fails alone: its batch is
// rolled back and committed again without it.
func TestGroupCommitter_RefusedDeliveryFailsAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		st := storetest.Open(t, driver)
		refused := errors.New("refused")
		var firstBatch atomic.Int64
		w := &countingWriter{next: st, before: func(items []*models.Delivery) error {
			firstBatch.CompareAndSwap(0, int64(len(items)))
			for _, it := range items {
				if it.DeliveryID == "poison" {
					return refused
				}
			}
			return nil
		}}
		g := &inbox.GroupCommitter{Store: w, MaxBatch: 5, MaxWait: 5 * time.Second, Committers: 1}
		startGC(t, g)
		ids := []string{"a", "b", "poison", "c", "d"}
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = g.InsertInbox(context.Background(), inboxItem(1, id))
			}()
		}
		wg.Wait()
		if firstBatch.Load() != 5 {
			t.Fatalf("first batch had %d deliveries, want 5", firstBatch.Load())
		}
		for i, id := range ids {
			switch {
			case id == "poison" && !errors.Is(errs[i], refused):
				t.Errorf("poison: err = %v, want the refusal", errs[i])
			case id == "poison" && !errors.Is(errs[i], models.ErrUnavailable):
				t.Errorf("poison: err = %v does not ask the sender to retry (503)", errs[i])
			case id != "poison" && errs[i] != nil:
				t.Errorf("%s: %v", id, errs[i])
			}
		}
		if got := pending(t, st); got != 4 {
			t.Fatalf("inbox holds %d deliveries, want 4", got)
		}
	})
}

// A batch refused for a lock conflict wrote nothing and is run again at
// once. A batch whose COMMIT answer was lost may have been written: running
// it again would answer "duplicate" for deliveries it stored itself, so its
// senders hear 503, and their retries are the duplicates.
func TestGroupCommitter_RetriesOnlyWhatWroteNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		send := func(t *testing.T, g *inbox.GroupCommitter, ids ...string) (dups []bool, errs []error) {
			dups, errs = make([]bool, len(ids)), make([]error, len(ids))
			var wg sync.WaitGroup
			for i, id := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					dups[i], errs[i] = g.InsertInbox(context.Background(), inboxItem(1, id))
				}()
			}
			wg.Wait()
			return dups, errs
		}
		// Only the first batch fails.
		once := func(err error) func([]*models.Delivery) error {
			var failed atomic.Bool
			return func([]*models.Delivery) error {
				if failed.CompareAndSwap(false, true) {
					return err
				}
				return nil
			}
		}

		t.Run("Deadlock", func(t *testing.T) {
			st := storetest.Open(t, driver)
			w := &countingWriter{next: st, before: once(fmt.Errorf("store: insert inbox batch: %w", store.ErrDeadlock))}
			g := &inbox.GroupCommitter{Store: w, MaxBatch: 2, MaxWait: 5 * time.Second, Committers: 1}
			startGC(t, g)
			dups, errs := send(t, g, "a", "b")
			for i := range dups {
				if dups[i] || errs[i] != nil {
					t.Errorf("delivery %d: dup=%v err=%v, want stored", i, dups[i], errs[i])
				}
			}
			if n := w.batches.Load(); n != 2 {
				t.Errorf("%d batches written, want 2 (the refused one again)", n)
			}
		})

		t.Run("LostCommit", func(t *testing.T) {
			st := storetest.Open(t, driver)
			// What the store answers when the connection breaks during COMMIT.
			lost := fmt.Errorf("store: transaction: %w: invalid connection", models.ErrUnavailable)
			w := &countingWriter{next: st, after: once(lost)}
			g := &inbox.GroupCommitter{Store: w, MaxBatch: 2, MaxWait: 5 * time.Second, Committers: 1}
			startGC(t, g)
			dups, errs := send(t, g, "a", "b")
			for i := range dups {
				if !errors.Is(errs[i], models.ErrUnavailable) {
					t.Errorf("delivery %d: dup=%v err=%v, want an error asking the sender to retry (503)", i, dups[i], errs[i])
				}
			}
			if n := w.batches.Load(); n != 1 {
				t.Errorf("%d batches written, want 1", n)
			}
			dups, errs = send(t, g, "a", "b")
			for i := range dups {
				if !dups[i] || errs[i] != nil {
					t.Errorf("retry of delivery %d: dup=%v err=%v, want a duplicate", i, dups[i], errs[i])
				}
			}
		})
	})
}

// A waiter that gives up hears its context's error, never "stored", and does
// not hold up or undo the others.
func TestGroupCommitter_WaiterGivesUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		st := storetest.Open(t, driver)
		release := make(chan struct{})
		entered := make(chan struct{}, 10)
		w := &countingWriter{next: st, before: func([]*models.Delivery) error {
			entered <- struct{}{}
			<-release
			return nil
		}}
		g := &inbox.GroupCommitter{Store: w, MaxBatch: 2, MaxWait: 5 * time.Second, Committers: 1}
		startGC(t, g)

		ctx, cancel := context.WithCancel(context.Background())
		impatient := make(chan error, 1)
		patient := make(chan error, 1)
		go func() {
			_, err := g.InsertInbox(ctx, inboxItem(1, "impatient"))
			impatient <- err
		}()
		go func() {
			_, err := g.InsertInbox(context.Background(), inboxItem(1, "patient"))
			patient <- err
		}()
		<-entered // both are in the transaction now
		cancel()
		if err := <-impatient; !errors.Is(err, context.Canceled) {
			t.Fatalf("impatient waiter: err = %v, want context.Canceled", err)
		}
		close(release)
		if err := <-patient; err != nil {
			t.Fatalf("patient waiter: %v", err)
		}
		// The impatient one's delivery is stored all the same; its retry is a
		// duplicate (sent with a neighbour, to fill the batch of two).
		go g.InsertInbox(context.Background(), inboxItem(1, "neighbour"))
		dup, err := g.InsertInbox(context.Background(), inboxItem(1, "impatient"))
		if err != nil || !dup {
			t.Fatalf("retry after giving up: dup=%v err=%v, want a duplicate", dup, err)
		}

		// A waiter whose context ended before its batch was written is left out of it.
		gone, cancelGone := context.WithCancel(context.Background())
		cancelGone()
		if _, err := g.InsertInbox(gone, inboxItem(1, "gone")); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled before offering: err = %v, want context.Canceled", err)
		}
		if _, err := st.InboxByDelivery(context.Background(), 1, "gone"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("a delivery offered with a cancelled context was stored (err = %v)", err)
		}
	})
}

// Close commits and answers everything queued, then refuses with 503.
func TestGroupCommitter_CloseFlushes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		st := storetest.Open(t, driver)
		// A long wait: without the flush on Close these would sit in a batch.
		g := &inbox.GroupCommitter{Store: st, MaxBatch: 1000, MaxWait: time.Hour, Committers: 1}
		done := make(chan struct{})
		go func() {
			defer close(done)
			g.Run(context.Background())
		}()
		const n = 20
		results := make(chan error, n)
		for i := range n {
			go func() {
				_, err := g.InsertInbox(context.Background(), inboxItem(1, fmt.Sprint("c", i)))
				results <- err
			}()
		}
		// Wait until they are queued: the committer holds the first and waits for more.
		time.Sleep(200 * time.Millisecond)
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
		<-done
		stored := 0
		for range n {
			err := <-results
			switch {
			case err == nil:
				stored++
			case !errors.Is(err, models.ErrUnavailable):
				t.Errorf("err = %v, want nil or a 503", err)
			}
		}
		if got := pending(t, st); got != int64(stored) {
			t.Fatalf("%d senders were told stored, the inbox holds %d", stored, got)
		}
		if stored != n {
			t.Errorf("%d of %d queued deliveries were flushed", stored, n)
		}
		if _, err := g.InsertInbox(context.Background(), inboxItem(1, "late")); !errors.Is(err, inbox.ErrGroupCommitClosed) || !errors.Is(err, models.ErrUnavailable) {
			t.Fatalf("after Close: err = %v, want ErrGroupCommitClosed (503)", err)
		}
	})
}

// Batches are counted in the metrics.
func TestGroupCommitter_Metrics(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	reg := prometheus.NewRegistry()
	g := &inbox.GroupCommitter{Store: st, Metrics: inbox.NewGroupCommitMetrics(reg)}
	startGC(t, g)
	if _, err := g.InsertInbox(context.Background(), inboxItem(1, "m")); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "treue_inbox_group_commit_batch_size" {
			found = mf.GetMetric()[0].GetHistogram().GetSampleCount() == 1
		}
	}
	if !found {
		t.Fatal("treue_inbox_group_commit_batch_size did not count the batch")
	}
}
