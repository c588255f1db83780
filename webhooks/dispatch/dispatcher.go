package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	randv2 "math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/plugin"
)

// Dispatcher delivers due actions (the outbox) through the platform
// connectors. Every `treue serve` process runs one; they coordinate through
// the database only: a worker claims a few due actions with a lease in a short
// transaction (SKIP LOCKED on MySQL), calls the shop outside any transaction,
// and writes the result only if it still holds the lease. A process that dies
// leaves leases that expire, and another process takes the actions over; the
// action's idempotency key, which connectors send to the shop, makes a call
// repeated that way take effect once.
//
// Zero fields take the defaults documented on them.
type Dispatcher struct {
	Store *store.Store
	// Connectors by name (models.Connector*); a shop's ConnectorName picks one.
	Connectors map[string]plugin.Connector
	// Notify carries notify actions and those whose Params["channel"] is
	// "notify" (a signed webhook), whatever the shop's platform.
	Notify plugin.Connector
	Log    *slog.Logger
	// Now is the clock for due times and breakers; default time.Now in UTC.
	// The store keeps its own clock (Store.Now) for leases.
	Now func() time.Time
	// Rand returns uniform numbers in [0, 1) for the backoff jitter; default
	// math/rand/v2. It is called under a lock.
	Rand func() float64
	// Owner names this process in leases (at most 64 bytes); default host,
	// pid and a random suffix. Two dispatchers must never share one.
	Owner string
	// Workers is how many calls run at once (default 4); BatchSize bounds a
	// claim (default 10).
	Workers, BatchSize int
	// Lease is how long a claim is exclusive (default 2 min); Poll how long
	// to wait when nothing is due (default 1 s).
	Lease, Poll time.Duration
	// AttemptTimeout bounds one call (default 30 s); a call is also cut off
	// before its lease runs out, so nobody else takes the action over while
	// it is in flight.
	AttemptTimeout time.Duration
	// ShutdownTimeout bounds how long Run lets in-flight calls finish after
	// its context is done (default 15 s).
	ShutdownTimeout time.Duration
	// MaxAttempts is the number of calls before an action is dead (default 10).
	MaxAttempts int
	// Backoff spaces retries; zero means DefaultBackoff.
	Backoff   Backoff
	Breaker   BreakerConfig
	RateLimit RateLimitConfig
	// Tier names the tier of a points balance; when set, points actions carry
	// it in Params["tier"] (Params["balance"] is always set).
	Tier    func(points int64) string
	Metrics *Metrics // optional

	once     sync.Once
	setupErr error
	mu       sync.Mutex // guards inflight and Rand
	inflight map[int64]struct{}
	breakers *breakers
	zones    plugin.Zones // the shops' time zones, for Waiting
	limiter  *rateLimiter
	lastShop atomic.Int64 // the shop claimed from last (MySQL: claimActions)
}

// dispatchItem is one claimed action with its shop.
type dispatchItem struct {
	action  models.Action
	shop    *models.Shop
	shopErr error
	claimed time.Time // monotonic: when the lease began
}

const (
	// bookkeepingTimeout bounds the database writes after a call; they run
	// on a context that survives shutdown, so a finished call is recorded.
	bookkeepingTimeout = 10 * time.Second
	// shutdownGrace is how long Run waits for calls it abandoned at the
	// shutdown timeout to notice.
	shutdownGrace = 2 * time.Second
	// maxReason bounds reasons and summaries written from shop answers.
	maxReason = 1000
)

func (d *Dispatcher) setup() error {
	d.once.Do(func() {
		if d.Log == nil {
			d.Log = slog.New(slog.DiscardHandler)
		}
		if d.Now == nil {
			d.Now = func() time.Time { return time.Now().UTC() }
		}
		if d.Rand == nil {
			d.Rand = randv2.Float64
		}
		if d.Owner == "" {
			d.Owner = DefaultOwner()
		}
		if d.Workers <= 0 {
			d.Workers = 4
		}
		if d.BatchSize <= 0 {
			d.BatchSize = 10
		}
		if d.Lease <= 0 {
			d.Lease = 2 * time.Minute
		}
		if d.Poll <= 0 {
			d.Poll = time.Second
		}
		if d.AttemptTimeout <= 0 {
			d.AttemptTimeout = 30 * time.Second
		}
		if d.ShutdownTimeout <= 0 {
			d.ShutdownTimeout = 15 * time.Second
		}
		if d.MaxAttempts <= 0 {
			d.MaxAttempts = DefaultMaxAttempts
		}
		if d.Backoff == (Backoff{}) {
			d.Backoff = DefaultBackoff
		}
		if d.Breaker.Failures == 0 {
			d.Breaker.Failures = 5
		}
		if d.Breaker.Cooldown <= 0 {
			d.Breaker.Cooldown = time.Minute
		}
		if d.RateLimit.Rate == 0 {
			d.RateLimit.Rate = 10
		}
		if d.RateLimit.Burst <= 0 {
			d.RateLimit.Burst = 20
		}
		if d.RateLimit.MaxWait <= 0 {
			d.RateLimit.MaxWait = 5 * time.Second
		}
		d.inflight = map[int64]struct{}{}
		d.breakers = newBreakers(d.Breaker)
		d.limiter = newRateLimiter(d.RateLimit)
		if d.Store == nil {
			d.setupErr = errors.New("dispatcher: no store")
		} else if len(d.Owner) > 64 {
			d.setupErr = fmt.Errorf("dispatcher: owner %q is longer than 64 bytes", d.Owner)
		}
	})
	return d.setupErr
}

// DefaultOwner names this process for leases: host, pid and a random suffix,
// so that a restarted process never mistakes an old lease for its own.
func DefaultOwner() string {
	host, _ := os.Hostname()
	host = cutUTF8(host, 40)
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Run claims and delivers due actions until ctx is done. It then stops
// claiming, lets calls in flight finish for up to ShutdownTimeout, and hands
// claims it never started back to the queue. Transient database faults are
// logged and retried; they never stop the loop.
func (d *Dispatcher) Run(ctx context.Context) error {
	if err := d.setup(); err != nil {
		return err
	}
	// hard cancels the calls still in flight when the shutdown timeout is up.
	hard, stopHard := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHard()
	var wg sync.WaitGroup
	slots := make(chan struct{}, d.Workers)
	wait := d.Poll
	for ctx.Err() == nil {
		// Claim only for idle workers, so no lease ticks away in a queue:
		// wait for one, then take whichever others are idle too.
		select {
		case <-ctx.Done():
			continue
		case slots <- struct{}{}:
		}
		n := 1
		for n < d.BatchSize && tryAcquire(slots) {
			n++
		}
		items, err := d.claim(ctx, n)
		for range n - len(items) {
			<-slots
		}
		for _, it := range items {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				d.deliver(ctx, hard, it)
			}()
		}
		switch {
		case ctx.Err() != nil:
			continue
		case err != nil:
			d.Log.WarnContext(ctx, "claiming actions failed; retrying", "err", err)
			wait = max(min(2*wait, 30*time.Second), d.Poll)
		case len(items) == n:
			wait = d.Poll
			continue // more may be due
		default:
			wait = d.Poll
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}

	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	timer := time.NewTimer(d.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-drained:
	case <-timer.C:
		d.Log.Warn("dispatcher shutdown timeout: abandoning calls in flight", "timeout", d.ShutdownTimeout)
		stopHard()
		select {
		case <-drained:
		case <-time.After(shutdownGrace):
			d.Log.Error("connector calls ignore cancellation; leaving them behind")
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	n, err := d.releaseAll(rctx)
	if err != nil {
		return fmt.Errorf("dispatcher: release claims at shutdown: %w", err)
	}
	if n > 0 {
		d.Log.Info("dispatcher released unstarted claims", "count", n)
	}
	return nil
}

func tryAcquire(slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// DispatchOnce claims up to BatchSize due actions, delivers them with up to
// Workers calls at once, and returns how many it claimed. Tests drive the
// dispatcher with it under an injected clock.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	if err := d.setup(); err != nil {
		return 0, err
	}
	items, err := d.claim(ctx, d.BatchSize)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, d.Workers)
	for _, it := range items {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			d.deliver(ctx, ctx, it)
		}()
	}
	wg.Wait()
	return len(items), nil
}

// claim leases up to n due actions, skipping shops whose breaker is open, and
// loads their shops (once per shop).
func (d *Dispatcher) claim(ctx context.Context, n int) ([]*dispatchItem, error) {
	acts, err := d.claimActions(ctx, n)
	if err != nil {
		return nil, err
	}
	claimed := time.Now()
	shops := map[int64]*models.Shop{}
	shopErrs := map[int64]error{}
	items := make([]*dispatchItem, 0, len(acts))
	for _, a := range acts {
		if !d.begin(a.ID) {
			// Its lease ran out while this process still works on it, and
			// this claim renewed it: the worker in flight finishes it.
			d.Log.WarnContext(ctx, "reclaimed an action still in flight here", "action_id", a.ID)
			continue
		}
		it := &dispatchItem{action: a, claimed: claimed}
		sh, ok := shops[a.ShopID]
		if !ok && shopErrs[a.ShopID] == nil {
			sh, err = d.Store.ShopByID(ctx, a.ShopID)
			if err != nil {
				shopErrs[a.ShopID] = err
			} else {
				shops[a.ShopID] = sh
			}
		}
		it.shop, it.shopErr = sh, shopErrs[a.ShopID]
		items = append(items, it)
	}
	return items, nil
}

// claimActions leases up to n due actions. On MySQL each claim is one
// shop's, the shops visited in turn from the one after the shop claimed
// from last, so that on a keyspace sharded by shop (deploy/vitess) a claim's
// transaction stays on one shard; shops whose breaker is open are skipped.
// SQLite claims across shops in one transaction.
func (d *Dispatcher) claimActions(ctx context.Context, n int) ([]models.Action, error) {
	blocked := d.breakers.blocked(d.Now())
	if d.Store.Driver() != "mysql" {
		return d.Store.ClaimActions(ctx, d.Owner, n, d.Lease, blocked)
	}
	ids, err := d.Store.ShopIDs(ctx)
	if err != nil {
		return nil, err
	}
	start, _ := slices.BinarySearch(ids, d.lastShop.Load()+1)
	var out []models.Action
	for i := range ids {
		id := ids[(start+i)%len(ids)]
		if slices.Contains(blocked, id) {
			continue
		}
		acts, err := d.Store.ForShop(id).ClaimActions(ctx, d.Owner, n-len(out), d.Lease, nil)
		if err != nil && len(out) == 0 {
			return nil, err
		}
		if err != nil {
			// What is leased already is delivered; the rest waits a round.
			d.Log.WarnContext(ctx, "claiming actions failed", "shop_id", id, "err", err)
			break
		}
		out = append(out, acts...)
		d.lastShop.Store(id)
		if len(out) >= n {
			break
		}
	}
	return out, nil
}

// releaseAll gives back every claim of this dispatcher that was not
// started: on MySQL shop by shop, as the claims were taken (claimActions).
func (d *Dispatcher) releaseAll(ctx context.Context) (int64, error) {
	if d.Store.Driver() != "mysql" {
		return d.Store.ReleaseActions(ctx, d.Owner)
	}
	ids, err := d.Store.ShopIDs(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, id := range ids {
		n, err := d.Store.ForShop(id).ReleaseActions(ctx, d.Owner)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// begin marks an action in flight in this process; false when it already is.
func (d *Dispatcher) begin(id int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.inflight[id]; ok {
		return false
	}
	d.inflight[id] = struct{}{}
	return true
}

func (d *Dispatcher) end(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inflight, id)
}

func (d *Dispatcher) rand() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Rand()
}

// deliver carries one claimed action out and records what became of it.
// runCtx ending means stop (an unstarted claim goes back); hardCtx ending
// cuts off a call in flight.
func (d *Dispatcher) deliver(runCtx, hardCtx context.Context, it *dispatchItem) {
	a := &it.action
	defer d.end(a.ID)
	// The writes after a call must happen even while shutting down.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(runCtx), bookkeepingTimeout)
	defer cancel()
	log := d.Log.With("action_id", a.ID, "shop_id", a.ShopID, "type", a.Type, "attempt", a.Attempts)

	if runCtx.Err() != nil {
		d.release(ctx, log, a, d.Now())
		return
	}
	if it.shopErr != nil {
		if errors.Is(it.shopErr, models.ErrNotFound) {
			d.kill(ctx, log, a, "shop not found")
			return
		}
		log.WarnContext(ctx, "loading the shop failed; releasing", "err", it.shopErr)
		d.release(ctx, log, a, d.Now().Add(d.Poll))
		return
	}
	shop := it.shop
	conn, why := d.connector(shop, a)
	if conn == nil {
		d.kill(ctx, log, a, why)
		return
	}
	if a.Attempts > d.MaxAttempts {
		// Only leases that expired mid-call (crashes) get here.
		d.kill(ctx, log, a, fmt.Sprintf("gave up after %d attempts; the last ones never finished", a.Attempts-1))
		return
	}
	job, err := d.job(ctx, shop, a)
	if errors.Is(err, models.ErrNotFound) {
		d.kill(ctx, log, a, "customer not found")
		return
	}
	if err != nil {
		log.WarnContext(ctx, "loading the customer failed; releasing", "err", err)
		d.release(ctx, log, a, d.Now().Add(d.Poll))
		return
	}

	ok, trial, until := d.breakers.allow(shop.ID, d.Now())
	if !ok {
		d.release(ctx, log, a, until)
		return
	}
	// The call must end before the lease does, with a margin for the writes.
	deadline := it.claimed.Add(d.Lease * 4 / 5)
	if wait := d.limiter.reserve(shop.ID, time.Now()); wait > 0 {
		if wait > d.RateLimit.MaxWait || time.Now().Add(wait).After(deadline) {
			d.limiter.cancel(shop.ID)
			d.breakers.report(shop.ID, d.Now(), trial, breakerNeutral)
			d.release(ctx, log, a, d.Now().Add(wait))
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-runCtx.Done():
			t.Stop()
			d.limiter.cancel(shop.ID)
			d.breakers.report(shop.ID, d.Now(), trial, breakerNeutral)
			d.release(ctx, log, a, d.Now())
			return
		}
	}

	left := time.Until(deadline)
	if left <= 0 {
		// Too little of the lease is left to call safely.
		d.limiter.cancel(shop.ID)
		d.breakers.report(shop.ID, d.Now(), trial, breakerNeutral)
		d.release(ctx, log, a, d.Now())
		return
	}
	callCtx, cancelCall := context.WithTimeout(hardCtx, min(d.AttemptTimeout, left))
	started, t0 := d.Now(), time.Now()
	res, err := execute(callCtx, conn, job)
	elapsed := time.Since(t0)
	cancelCall()
	abandoned := err != nil && hardCtx.Err() != nil

	att := &models.Attempt{
		ShopID: a.ShopID, ActionID: a.ID, AttemptNo: a.Attempts, StartedAt: started,
		DurationMS: int(elapsed.Milliseconds()), StatusCode: res.StatusCode, Outcome: store.AttemptOK,
		Summary: scrub(res.Summary, shop),
	}
	var perr *plugin.Error
	if err != nil {
		att.Outcome, att.StatusCode, att.Summary = store.AttemptTransient, 0, scrub(describe(err), shop)
		if errors.As(err, &perr) {
			att.StatusCode = perr.StatusCode
			if perr.Kind == plugin.Permanent {
				att.Outcome = store.AttemptPermanent
			}
		}
	}
	if d.Metrics != nil {
		d.Metrics.AttemptDuration.WithLabelValues(att.Outcome).Observe(elapsed.Seconds())
	}
	// The attempt and the action's new state commit together: one commit per
	// call instead of two, and never an attempt without its verdict.
	finish := func(change func(tx *store.Store) (bool, error)) (applied bool, err error) {
		err = d.Store.InTx(ctx, func(tx *store.Store) error {
			if err := tx.RecordAttempt(ctx, att); err != nil {
				return err
			}
			applied, err = change(tx)
			return err
		})
		return applied, err
	}

	now := d.Now()
	switch {
	case att.Outcome == store.AttemptOK:
		d.breakers.report(shop.ID, now, trial, breakerSuccess)
		applied, err := finish(func(tx *store.Store) (bool, error) {
			return tx.CompleteAction(ctx, a.ShopID, a.ID, d.Owner, res.External)
		})
		d.settle(ctx, log, dispatchSent, applied, err, "status_code", res.StatusCode)
	case att.Outcome == store.AttemptPermanent:
		d.breakers.report(shop.ID, now, trial, breakerSuccess) // the shop answered
		applied, err := finish(func(tx *store.Store) (bool, error) { return tx.KillAction(ctx, a.ShopID, a.ID, d.Owner, att.Summary) })
		d.settle(ctx, log, dispatchDead, applied, err, "status_code", att.StatusCode, "reason", att.Summary)
	case abandoned:
		// Cut off by shutdown: no verdict on the shop; due again at once.
		d.breakers.report(shop.ID, now, trial, breakerNeutral)
		applied, err := finish(func(tx *store.Store) (bool, error) {
			return tx.RetryAction(ctx, a.ShopID, a.ID, d.Owner, now, "interrupted by shutdown: "+att.Summary)
		})
		d.settle(ctx, log, dispatchRetrying, applied, err)
	default:
		if d.breakers.report(shop.ID, now, trial, breakerFailure) {
			log.WarnContext(ctx, "circuit breaker opened for shop", "shop", shop.Key, "cooldown", d.Breaker.Cooldown)
		}
		if a.Attempts >= d.MaxAttempts {
			reason := cutUTF8(fmt.Sprintf("gave up after %d attempts: %s", a.Attempts, att.Summary), maxReason)
			applied, err := finish(func(tx *store.Store) (bool, error) { return tx.KillAction(ctx, a.ShopID, a.ID, d.Owner, reason) })
			d.settle(ctx, log, dispatchDead, applied, err, "status_code", att.StatusCode, "reason", reason)
			return
		}
		var retryAfter time.Duration
		if perr != nil {
			retryAfter = perr.RetryAfter
		}
		at := now.Add(d.Backoff.retryDelay(a.Attempts, d.rand(), retryAfter))
		applied, err := finish(func(tx *store.Store) (bool, error) {
			return tx.RetryAction(ctx, a.ShopID, a.ID, d.Owner, at, att.Summary)
		})
		d.settle(ctx, log, dispatchRetrying, applied, err, "status_code", att.StatusCode, "next_attempt_at", at, "reason", att.Summary)
	}
}

// execute calls the connector, turning a panic into a transient error so one
// faulty connector cannot take the process down.
func execute(ctx context.Context, conn plugin.Connector, job plugin.Job) (res plugin.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = plugin.Result{}, fmt.Errorf("connector panicked: %v", p)
		}
	}()
	return conn.Execute(ctx, job)
}

// connector picks who carries a out, or says why nobody can.
func (d *Dispatcher) connector(shop *models.Shop, a *models.Action) (plugin.Connector, string) {
	if a.Type == models.ActionNotify || a.Params["channel"] == "notify" || shop.ConnectorName() == models.ConnectorNotify {
		if d.Notify == nil {
			return nil, "notify is not configured"
		}
		return d.Notify, ""
	}
	if c := d.Connectors[shop.ConnectorName()]; c != nil {
		return c, ""
	}
	return nil, fmt.Sprintf("no %s connector; configure the shop's connector or notify", shop.ConnectorName())
}

// job builds what the connector needs: the customer as the shop knows them
// and, for points actions, the balance (and tier) after this action.
func (d *Dispatcher) job(ctx context.Context, shop *models.Shop, a *models.Action) (plugin.Job, error) {
	ids, prof, err := d.Store.ActionCustomer(ctx, a.ShopID, a.CustomerID)
	if err != nil {
		return plugin.Job{}, err
	}
	ci := plugin.CustomerInfo{Profile: prof}
	for _, id := range ids {
		switch {
		case id.Kind == models.IdentityID && ci.ShopCustomerID == "":
			ci.ShopCustomerID = id.Value
		case id.Kind == models.IdentityNumber && ci.Number == "":
			ci.Number = id.Value
		case id.Kind == models.IdentityEmail && ci.Email == "":
			ci.Email = id.Value
		}
	}
	if a.Type == models.ActionPointsAward || a.Type == models.ActionPointsRevoke {
		bal, err := d.Store.ForShop(a.ShopID).PointsBalance(ctx, a.CustomerID)
		if err != nil {
			return plugin.Job{}, err
		}
		if a.Params == nil {
			a.Params = map[string]any{}
		}
		a.Params["balance"] = bal
		if d.Tier != nil {
			a.Params["tier"] = d.Tier(bal)
		}
	}
	return plugin.Job{Shop: shop, Action: a, Customer: ci}, nil
}

// release hands an unattempted claim back, due at at.
func (d *Dispatcher) release(ctx context.Context, log *slog.Logger, a *models.Action, at time.Time) {
	applied, err := d.Store.ReleaseAction(ctx, a.ShopID, a.ID, d.Owner, at)
	d.settle(ctx, log, dispatchReleased, applied, err, "next_attempt_at", at)
}

// kill ends a claim as dead without calling the shop.
func (d *Dispatcher) kill(ctx context.Context, log *slog.Logger, a *models.Action, reason string) {
	applied, err := d.Store.KillAction(ctx, a.ShopID, a.ID, d.Owner, reason)
	d.settle(ctx, log, dispatchDead, applied, err, "reason", reason)
}

// settle logs and counts the state change of a claim. A change that did not
// apply means the lease was lost (it expired and another owner took the
// action); the database error case leaves the lease to expire.
func (d *Dispatcher) settle(ctx context.Context, log *slog.Logger, outcome string, applied bool, err error, attrs ...any) {
	switch {
	case err != nil:
		log.ErrorContext(ctx, "recording the action's outcome failed; its lease will expire", append(attrs, "outcome", outcome, "err", err)...)
		return
	case !applied:
		log.WarnContext(ctx, "lease lost before the outcome was recorded", append(attrs, "outcome", outcome)...)
		outcome = dispatchLost
	case outcome == dispatchDead:
		log.ErrorContext(ctx, "action is dead", attrs...)
	case outcome == dispatchReleased:
		log.DebugContext(ctx, "action released", attrs...)
	default:
		log.InfoContext(ctx, "action "+outcome, attrs...)
	}
	if d.Metrics != nil {
		d.Metrics.Dispatched.WithLabelValues(outcome).Inc()
	}
}

// describe renders a connector error for the attempt log and the reason.
func describe(err error) string {
	var perr *plugin.Error
	if !errors.As(err, &perr) {
		return "transient: " + err.Error()
	}
	kind := "transient"
	if perr.Kind == plugin.Permanent {
		kind = "permanent"
	}
	msg := "<nil>"
	if perr.Err != nil {
		msg = perr.Err.Error()
	}
	if perr.StatusCode != 0 {
		return fmt.Sprintf("%s: status %d: %s", kind, perr.StatusCode, msg)
	}
	return kind + ": " + msg
}

// scrub keeps the shop's secrets out of what is stored and logged, should a
// connector echo one back, and bounds the length.
func scrub(s string, shop *models.Shop) string {
	sec := shop.Secrets
	for _, v := range append([]string{sec.APIKey, sec.APISecret, sec.AccessToken, sec.TokenSecret, sec.Pending}, sec.Webhook...) {
		if len(v) >= 6 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return cutUTF8(s, maxReason)
}

// cutUTF8 cuts s to at most n bytes without splitting a UTF-8 sequence
// (MySQL refuses invalid utf8mb4).
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
