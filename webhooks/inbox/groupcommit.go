package inbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// InboxBatchWriter commits several deliveries in one transaction; dup[i]
// reports whether items[i] was there before (also when an earlier item of the
// same batch carried the same delivery id). *store.Store implements it. When
// it also implements InboxWriter, a batch of one is written with InsertInbox.
type InboxBatchWriter interface {
	InsertInboxBatch(ctx context.Context, items []*models.Delivery) (dup []bool, err error)
}

// Defaults of GroupCommitter.
const (
	DefaultGroupCommitMaxBatch   = 128
	DefaultGroupCommitMaxWait    = time.Millisecond
	DefaultGroupCommitCommitters = 2
	DefaultGroupCommitTimeout    = 10 * time.Second
)

// ErrGroupCommitClosed is returned for deliveries offered after Close (or after
// Run returned); it matches models.ErrUnavailable, so the sender retries.
var ErrGroupCommitClosed = fmt.Errorf("webhooks: group commit is shut down: %w", models.ErrUnavailable)

// GroupCommitter is an InboxWriter that commits the deliveries of several
// concurrent requests in one transaction. Each request still gets its answer
// only after the transaction holding its delivery has committed, so the
// promise "2xx means durably stored" is unchanged; what is shared is the
// commit (one fsync for many deliveries) and the per-transaction overhead.
//
// A committer takes the first waiting delivery, then collects more for up to
// MaxWait or until MaxBatch are together, writes them with one
// InsertInboxBatch and answers every waiter. While one committer is writing,
// another collects the next batch. When a batch fails, every waiter of it gets
// the error (503): nothing of a failed batch is stored. A batch that fails
// for a reason other than the database being unavailable is retried one
// delivery at a time, so that one bad delivery does not refuse its neighbours.
//
// Run must be running for InsertInbox to return. The zero value is not
// usable before its Store is set; the other fields have defaults.
type GroupCommitter struct {
	Store InboxBatchWriter
	// MaxBatch bounds the deliveries of one transaction (default 128).
	MaxBatch int
	// MaxWait is how long a committer waits for more deliveries after the
	// first one (default 1ms). Zero means the default; a negative value means
	// no waiting: a batch is what is queued when the committer looks.
	MaxWait time.Duration
	// Committers is the number of transactions that may be in flight at once
	// (default 2).
	Committers int
	// Timeout bounds one batch transaction (default 10s). Waiters' own
	// contexts do not cancel a batch: one impatient sender must not undo its
	// neighbours' deliveries.
	Timeout time.Duration
	Log     *slog.Logger
	Metrics *GroupCommitMetrics // optional

	initOnce sync.Once
	queue    chan *gcRequest
	mu       sync.RWMutex // held shared while offering, exclusively to close
	closed   bool
	stop     chan struct{} // closed by Close: committers flush and exit
	stopOnce sync.Once
	exited   chan struct{} // closed when Run has returned
	exitOnce sync.Once
	running  sync.Mutex // one Run at a time
}

var _ InboxWriter = (*GroupCommitter)(nil)

type gcRequest struct {
	ctx  context.Context
	item *models.Delivery
	res  chan gcResult // buffered: a committer never blocks on a waiter
}

type gcResult struct {
	dup bool
	err error
}

// GroupCommitMetrics describe the group committer.
type GroupCommitMetrics struct {
	BatchSize prometheus.Histogram
	Commit    prometheus.Histogram
	Failed    prometheus.Counter
}

// NewGroupCommitMetrics registers the group committer's metrics with reg.
func NewGroupCommitMetrics(reg prometheus.Registerer) *GroupCommitMetrics {
	m := &GroupCommitMetrics{
		BatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "treue_inbox_group_commit_batch_size", Help: "Deliveries committed per inbox transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		Commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "treue_inbox_group_commit_seconds", Help: "Duration of one grouped inbox transaction.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		Failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "treue_inbox_group_commit_failures_total", Help: "Grouped inbox transactions that failed.",
		}),
	}
	reg.MustRegister(m.BatchSize, m.Commit, m.Failed)
	return m
}

func (g *GroupCommitter) init() {
	g.initOnce.Do(func() {
		if g.MaxBatch <= 0 {
			g.MaxBatch = DefaultGroupCommitMaxBatch
		}
		if g.MaxWait == 0 {
			g.MaxWait = DefaultGroupCommitMaxWait
		}
		if g.Committers <= 0 {
			g.Committers = DefaultGroupCommitCommitters
		}
		if g.Timeout <= 0 {
			g.Timeout = DefaultGroupCommitTimeout
		}
		if g.Log == nil {
			g.Log = slog.New(slog.DiscardHandler)
		}
		// Room for a few batches per committer: senders rarely block on a
		// full queue, and a full queue is back pressure, not loss.
		g.queue = make(chan *gcRequest, 4*g.MaxBatch*g.Committers)
		g.stop = make(chan struct{})
		g.exited = make(chan struct{})
	})
}

// InsertInbox implements InboxWriter: it queues the delivery and returns once
// the transaction holding it has committed (or failed). When ctx ends first
// it returns ctx's error: the delivery is then not reported as stored,
// although it may be (a retry is answered "duplicate").
func (g *GroupCommitter) InsertInbox(ctx context.Context, it *models.Delivery) (duplicate bool, err error) {
	g.init()
	req := &gcRequest{ctx: ctx, item: it, res: make(chan gcResult, 1)}
	if err := g.offer(ctx, req); err != nil {
		return false, err
	}
	select {
	case r := <-req.res:
		return r.dup, r.err
	case <-ctx.Done():
		return false, fmt.Errorf("webhooks: waiting for the inbox commit: %w", ctx.Err())
	}
}

// offer queues req unless the committer is closed or ctx ends first.
func (g *GroupCommitter) offer(ctx context.Context, req *gcRequest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("webhooks: queueing for the inbox commit: %w", err)
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return ErrGroupCommitClosed
	}
	select {
	case g.queue <- req:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("webhooks: queueing for the inbox commit: %w", ctx.Err())
	}
}

// Run commits batches until ctx ends or Close is called, then commits what is
// still queued and returns. Deliveries offered afterwards are refused with
// ErrGroupCommitClosed.
func (g *GroupCommitter) Run(ctx context.Context) error {
	g.init()
	if !g.running.TryLock() {
		return errors.New("webhooks: group committer is already running")
	}
	defer g.running.Unlock()
	defer g.exitOnce.Do(func() { close(g.exited) })
	g.mu.RLock()
	closed := g.closed
	g.mu.RUnlock()
	if closed {
		g.failQueued()
		return ErrGroupCommitClosed
	}
	var wg sync.WaitGroup
	wg.Add(g.Committers)
	for range g.Committers {
		go func() {
			defer wg.Done()
			g.commitLoop()
		}()
	}
	select {
	case <-ctx.Done():
		g.shut()
	case <-g.stop:
	}
	wg.Wait()
	return nil
}

// Close stops taking deliveries, waits until everything queued is committed
// and answered, and returns. It returns at once when Run never started.
func (g *GroupCommitter) Close() error {
	g.init()
	g.shut()
	if g.running.TryLock() { // Run is not running (never started, or returned)
		g.running.Unlock()
		g.failQueued()
		return nil
	}
	<-g.exited
	return nil
}

// shut refuses new deliveries and tells the committers to flush and exit.
func (g *GroupCommitter) shut() {
	g.stopOnce.Do(func() {
		g.mu.Lock() // waits for offers in progress: after this nothing more is queued
		g.closed = true
		g.mu.Unlock()
		close(g.stop)
	})
}

// failQueued answers deliveries that no committer will take.
func (g *GroupCommitter) failQueued() {
	for {
		select {
		case req := <-g.queue:
			req.res <- gcResult{err: ErrGroupCommitClosed}
		default:
			return
		}
	}
}

// commitLoop collects and commits batches; after stop it drains the queue.
func (g *GroupCommitter) commitLoop() {
	batch := make([]*gcRequest, 0, g.MaxBatch)
	var timer *time.Timer
	for {
		batch = batch[:0]
		select {
		case req := <-g.queue:
			batch = append(batch, req)
		case <-g.stop:
			// Flush: nothing can be offered any more, so an empty queue stays empty.
			for {
				batch = g.drain(batch[:0])
				if len(batch) == 0 {
					return
				}
				g.commit(batch)
			}
		}
		batch = g.drain(batch)
		if len(batch) < g.MaxBatch && g.MaxWait > 0 {
			if timer == nil {
				timer = time.NewTimer(g.MaxWait)
			} else {
				timer.Reset(g.MaxWait)
			}
		collect:
			for len(batch) < g.MaxBatch {
				select {
				case req := <-g.queue:
					batch = append(batch, req)
					batch = g.drain(batch)
				case <-timer.C:
					break collect
				case <-g.stop:
					break collect
				}
			}
			timer.Stop()
		}
		g.commit(batch)
	}
}

// drain adds what is queued right now, up to MaxBatch.
func (g *GroupCommitter) drain(batch []*gcRequest) []*gcRequest {
	for len(batch) < g.MaxBatch {
		select {
		case req := <-g.queue:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// commit writes one batch and answers its waiters. Waiters that already gave
// up are left out: they were told "not stored", and their sender retries.
func (g *GroupCommitter) commit(batch []*gcRequest) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.res <- gcResult{err: fmt.Errorf("webhooks: waiting for the inbox commit: %w", err)}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	err := g.write(live)
	if err == nil || len(live) == 1 || unavailable(err) {
		return
	}
	// Not an outage: find the delivery the database refuses by committing
	// the others one by one.
	g.Log.Warn("inbox batch failed; committing its deliveries one by one", "deliveries", len(live), "err", err)
	for _, r := range live {
		g.write([]*gcRequest{r})
	}
}

// write commits reqs in one transaction and answers them, unless it failed
// for a reason other than an outage with several deliveries in the batch:
// then the caller retries them one by one.
//
// Copies of one delivery in the batch are written once (the later copies are
// duplicates of it), and the rows are written in key order, so that two
// batches lock the inbox's unique key in the same order and do not deadlock
// each other. A batch that still loses a lock conflict (deadlock, lock wait
// timeout, busy SQLite file) is tried again, up to twice.
func (g *GroupCommitter) write(reqs []*gcRequest) error {
	type key struct {
		shop int64
		id   string
	}
	first := make(map[key]int, len(reqs)) // key -> index into items
	items := make([]*models.Delivery, 0, len(reqs))
	slot := make([]int, len(reqs)) // reqs[i] is answered from items[slot[i]]
	copyOf := make([]bool, len(reqs))
	for i, r := range reqs {
		k := key{r.item.ShopID, r.item.DeliveryID}
		j, seen := first[k]
		if !seen {
			j = len(items)
			first[k] = j
			items = append(items, r.item)
		}
		slot[i], copyOf[i] = j, seen
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(items[a].ShopID, items[b].ShopID), strings.Compare(items[a].DeliveryID, items[b].DeliveryID))
	})
	sorted := make([]*models.Delivery, len(items))
	for i, j := range order {
		sorted[i] = items[j]
	}

	var dup []bool
	var err error
	for attempt := 0; ; attempt++ {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), g.Timeout)
		if single, ok := g.Store.(InboxWriter); ok && len(sorted) == 1 {
			// Alone in its batch (a quiet moment): one autocommit INSERT
			// is one round trip instead of a transaction's four.
			var d bool
			d, err = single.InsertInbox(ctx, sorted[0])
			dup = []bool{d}
		} else {
			dup, err = g.Store.InsertInboxBatch(ctx, sorted)
		}
		cancel()
		if err == nil && len(dup) != len(sorted) {
			err = fmt.Errorf("webhooks: inbox batch answered %d of %d deliveries", len(dup), len(sorted))
		}
		if m := g.Metrics; m != nil {
			m.BatchSize.Observe(float64(len(sorted)))
			m.Commit.Observe(time.Since(start).Seconds())
			if err != nil {
				m.Failed.Inc()
			}
		}
		if err == nil || attempt == 2 || !conflict(err) {
			break
		}
		g.Log.Debug("inbox batch lost a lock conflict; trying again", "deliveries", len(sorted), "err", err)
	}
	if err != nil {
		if len(reqs) > 1 && !unavailable(err) {
			return err
		}
		// The delivery was verified and parsed: that it cannot be stored is
		// Treue's fault, never the sender's, so it retries (503).
		if !errors.Is(err, models.ErrUnavailable) {
			err = fmt.Errorf("%w: %w", models.ErrUnavailable, err)
		}
		err = fmt.Errorf("webhooks: inbox batch of %d: %w", len(reqs), err)
		for _, r := range reqs {
			r.res <- gcResult{err: err}
		}
		return err
	}
	dupOf := make([]bool, len(items))
	for i, j := range order {
		dupOf[j] = dup[i]
	}
	for i, r := range reqs {
		r.res <- gcResult{dup: copyOf[i] || dupOf[slot[i]]}
	}
	return nil
}

// unavailable reports an error that says the database cannot be used right
// now (as opposed to one that refuses this batch). The store marks most of
// them models.ErrUnavailable; a failed BEGIN or COMMIT reaches us unmarked.
func unavailable(err error) bool {
	return errors.Is(err, models.ErrUnavailable) || store.IsTransient(err)
}

// conflict reports a batch the database refused for a lock conflict: it
// wrote nothing, so running it again at once is safe. Any other failure may
// have been committed (a COMMIT whose answer was lost): running it again
// would answer "duplicate" for deliveries this very batch stored, so those
// are answered 503 and left to the senders' retries.
func conflict(err error) bool {
	return errors.Is(err, store.ErrDeadlock)
}
