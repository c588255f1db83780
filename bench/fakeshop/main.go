// Command fakeshop is a merchant's endpoint for Treue's notify connector that
// answers slowly, or with errors, on purpose: the far end of
// bench/faults/slow-shop.sh.
//
//	go run ./bench/fakeshop --addr 127.0.0.1:28090 --delay 2s --error-rate 0.3 \
//	    --secret whsec_…
//	curl -s http://127.0.0.1:28090/stats
//
// Every POST (any path) is a signed action webhook. The fake shop verifies its
// Standard Webhooks signature with Treue's own receiver (plugin/standard, the
// same check Treue applies to shops) and answers 401 when it does not match;
// then it waits --delay (giving up early when the caller hangs up) and answers
// a random --error-rate share with 500 or 503, the rest with 204.
//
// It keeps what an idempotent receiver needs to know and GET /stats reports
// it as JSON: requests, distinct webhook-ids, ids received again after an
// error (retries: allowed) or after a 2xx (the sender lost a success: not
// allowed in a run without crashes), ids whose action or idempotency key
// changed between requests (not allowed), distinct actions per (shop,
// customer, rule, order) for the once-per-order rules (at most one allowed),
// and the peak number of requests in flight (how many dispatch workers the
// slow shop tied up at once).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:28090", "listen address")
	delay := flag.Duration("delay", 0, "wait this long before every answer (the caller hanging up ends the wait)")
	errorRate := flag.Float64("error-rate", 0, "share of webhooks answered 500 or 503 (after the delay)")
	secrets := flag.String("secret", "", "signing secret(s) of the notify connector, comma-separated (whsec_…, the prefix optional)")
	tolerance := flag.Duration("tolerance", 5*time.Minute, "accepted webhook-timestamp skew")
	once := flag.String("once-per-order", "points-award,late-delivery-apology,return-recovery,review-request",
		"rules that may act at most once per (shop, customer, order), comma-separated")
	seed := flag.Uint64("seed", 0, "seed of the error choice (0: random)")
	verbose := flag.Bool("v", false, "print one line per action received (type, rule, order, answer), to watch Treue deliver")
	flag.Parse()
	if *secrets == "" {
		log.Fatal("fakeshop: --secret is required (the notify connector's signing secret)")
	}
	for _, sec := range strings.Split(*secrets, ",") {
		// Verify skips a secret it cannot decode: one typo would otherwise
		// show up only as every webhook answered 401.
		if _, err := standard.DecodeSecret(sec); err != nil {
			log.Fatalf("fakeshop: --secret: a secret %v", err)
		}
	}
	if *errorRate < 0 || *errorRate > 1 {
		log.Fatal("fakeshop: --error-rate must be between 0 and 1")
	}
	s := newShop(strings.Split(*secrets, ","), *delay, *errorRate, *tolerance, strings.Split(*once, ","), *seed)
	s.verbose = *verbose

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal("fakeshop: ", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Fprintf(os.Stderr, "fakeshop: listening on %s (delay %s, error rate %g)\n", ln.Addr(), *delay, *errorRate)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal("fakeshop: ", err)
	}
}

// idState is what the shop remembers of one webhook-id.
type idState struct {
	requests int
	active   int    // requests in flight now
	ok       bool   // answered 2xx once
	key      string // data.action.idempotency_key
	action   string // data.action.id
}

// Stats is the GET /stats answer.
type Stats struct {
	Delay     string  `json:"delay"`
	ErrorRate float64 `json:"error_rate"`

	Requests      int64            `json:"requests"`               // POSTs received
	BadSignature  int64            `json:"bad_signature"`          // answered 401
	BadBody       int64            `json:"bad_body"`               // signed, but not a notification: answered 400
	Answered2xx   int64            `json:"answered_2xx"`           // 204
	Answered5xx   int64            `json:"answered_5xx"`           // 500 or 503, on purpose
	CallerGone    int64            `json:"caller_gone"`            // the caller hung up during the delay
	DistinctIDs   int64            `json:"distinct_ids"`           // distinct verified webhook-ids
	Applied       int64            `json:"applied"`                // distinct webhook-ids answered 2xx: effects in the shop
	RepeatedIDs   int64            `json:"repeated_ids"`           // webhook-ids received more than once
	Repeats       int64            `json:"repeats"`                // verified requests beyond the first per webhook-id
	RetryAfterErr int64            `json:"retry_after_error"`      // a repeat after a 5xx (or a hang-up): a retry, allowed
	AfterOK       int64            `json:"redelivered_after_2xx"`  // a repeat after a 2xx: the sender lost a success
	Concurrent    int64            `json:"concurrent_same_id"`     // a webhook-id received while a request with it was in flight: two senders at once
	IDConflicts   int64            `json:"id_conflicts"`           // one webhook-id with two actions or keys, or one key under two ids
	OnceDoubled   int64            `json:"once_per_order_doubled"` // (shop, customer, rule, order) with >1 distinct webhook-id
	InFlight      int64            `json:"in_flight"`
	MaxInFlight   int64            `json:"max_in_flight"`
	BusySeconds   float64          `json:"busy_seconds"` // sum of the time spent answering
	FirstAt       string           `json:"first_at,omitempty"`
	LastAt        string           `json:"last_at,omitempty"`
	ByType        map[string]int64 `json:"by_type"`            // distinct webhook-ids per notification type
	Examples      []string         `json:"examples,omitempty"` // a few of the violations
}

type shop struct {
	recv      *standard.Receiver
	shop      *models.Shop
	delay     time.Duration
	errorRate float64
	once      map[string]bool
	verbose   bool

	mu     sync.Mutex
	rnd    *rand.Rand
	st     Stats
	ids    map[string]*idState
	byKey  map[string]string // idempotency key → webhook-id
	orders map[string]map[string]bool
	first  time.Time
	last   time.Time
}

func newShop(secrets []string, delay time.Duration, errorRate float64, tolerance time.Duration, once []string, seed uint64) *shop {
	if seed == 0 {
		seed = rand.Uint64()
	}
	s := &shop{
		recv: standard.New(tolerance),
		// Receiver.Verify takes the secrets from a shop.
		shop:  &models.Shop{Secrets: models.ShopSecrets{Webhook: secrets}},
		delay: delay, errorRate: errorRate, once: map[string]bool{},
		rnd: rand.New(rand.NewPCG(seed, 0x5107)),
		ids: map[string]*idState{}, byKey: map[string]string{}, orders: map[string]map[string]bool{},
		st: Stats{Delay: delay.String(), ErrorRate: errorRate, ByType: map[string]int64{}},
	}
	for _, r := range once {
		if r = strings.TrimSpace(r); r != "" {
			s.once[r] = true
		}
	}
	return s
}

func (s *shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/stats":
		s.mu.Lock()
		st := s.st
		st.ByType = maps.Clone(s.st.ByType)
		st.Examples = slices.Clone(s.st.Examples)
		if !s.first.IsZero() {
			st.FirstAt, st.LastAt = s.first.Format(time.RFC3339Nano), s.last.Format(time.RFC3339Nano)
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
	case r.Method == http.MethodGet && r.URL.Path == "/healthz":
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost:
		s.webhook(w, r)
	default:
		http.Error(w, "POST a signed webhook, or GET /stats", http.StatusMethodNotAllowed)
	}
}

// webhook answers one signed action webhook.
func (s *shop) webhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.mu.Lock()
	s.st.Requests++
	s.st.InFlight++
	s.st.MaxInFlight = max(s.st.MaxInFlight, s.st.InFlight)
	if s.first.IsZero() {
		s.first = start
	}
	s.last = start
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.st.InFlight--
		s.st.BusySeconds += time.Since(start).Seconds()
		s.mu.Unlock()
	}()

	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	if err := s.recv.Verify(r.Context(), &plugin.Delivery{Header: r.Header, Body: body}, s.shop, time.Now()); err != nil {
		s.count(func(st *Stats) { st.BadSignature++ }, "bad signature: "+err.Error())
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var n standard.Notification
	id := r.Header.Get("webhook-id")
	if err := json.Unmarshal(body, &n); err != nil || n.Data.Action.IdempotencyKey == "" {
		s.count(func(st *Stats) { st.BadBody++ }, "webhook-id "+id+": not a notification")
		http.Error(w, "not a notification", http.StatusBadRequest)
		return
	}
	s.record(id, &n)
	if s.verbose {
		a := &n.Data.Action
		defer func() {
			fmt.Fprintf(os.Stderr, "fakeshop: %s  %s  rule %s  order %s  webhook-id %s\n",
				time.Now().Format(time.TimeOnly), a.Type, a.RuleID, a.Order, id)
		}()
	}
	defer func() {
		s.mu.Lock()
		s.ids[id].active--
		s.mu.Unlock()
	}()

	// The slow part: like a shop under load, answer late, unless the caller
	// gave up already.
	if s.delay > 0 {
		t := time.NewTimer(s.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			s.count(func(st *Stats) { st.CallerGone++ }, "")
			return
		}
	}
	s.mu.Lock()
	fail := s.errorRate > 0 && s.rnd.Float64() < s.errorRate
	status := http.StatusNoContent
	if fail {
		status = http.StatusInternalServerError
		if s.rnd.IntN(2) == 0 {
			status = http.StatusServiceUnavailable
		}
		s.st.Answered5xx++
	} else {
		s.st.Answered2xx++
		if st := s.ids[id]; !st.ok {
			st.ok = true
			s.st.Applied++
		}
	}
	s.mu.Unlock()
	w.WriteHeader(status)
}

// record books a verified webhook: repeats, conflicts, once-per-order.
func (s *shop) record(id string, n *standard.Notification) {
	a := n.Data.Action
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ids[id]
	if st == nil {
		st = &idState{key: a.IdempotencyKey, action: a.ID}
		s.ids[id] = st
		s.st.DistinctIDs++
		s.st.ByType[n.Type]++
		if other, ok := s.byKey[a.IdempotencyKey]; ok && other != id {
			s.violation(&s.st.IDConflicts, fmt.Sprintf("idempotency key %q under webhook-ids %s and %s", a.IdempotencyKey, other, id))
		}
		s.byKey[a.IdempotencyKey] = id
		if s.once[a.RuleID] && a.Order != "" {
			c := n.Data.Customer
			k := strings.Join([]string{n.Data.Shop, c.ID + "|" + c.Number + "|" + c.Email, a.RuleID, a.Order}, " ")
			if s.orders[k] == nil {
				s.orders[k] = map[string]bool{}
			}
			s.orders[k][id] = true
			if len(s.orders[k]) == 2 {
				s.violation(&s.st.OnceDoubled, fmt.Sprintf("rule %s acted twice for order %s of shop %s", a.RuleID, a.Order, n.Data.Shop))
			}
		}
	} else {
		s.st.Repeats++
		if st.requests == 1 {
			s.st.RepeatedIDs++
		}
		switch {
		case st.active > 0:
			s.violation(&s.st.Concurrent, fmt.Sprintf("webhook-id %s received while a request with it was in flight", id))
		case st.ok:
			s.violation(&s.st.AfterOK, fmt.Sprintf("webhook-id %s received again after a 2xx", id))
		default:
			s.st.RetryAfterErr++
		}
		if st.key != a.IdempotencyKey || st.action != a.ID {
			s.violation(&s.st.IDConflicts, fmt.Sprintf("webhook-id %s carried action %s (key %q), then action %s (key %q)", id, st.action, st.key, a.ID, a.IdempotencyKey))
		}
	}
	st.requests++
	st.active++
}

// violation counts one and keeps a few examples; s.mu is held.
func (s *shop) violation(counter *int64, example string) {
	*counter++
	if len(s.st.Examples) < 10 {
		s.st.Examples = append(s.st.Examples, example)
	}
}

func (s *shop) count(f func(st *Stats), example string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.st)
	if example != "" && len(s.st.Examples) < 10 {
		s.st.Examples = append(s.st.Examples, example)
	}
}
