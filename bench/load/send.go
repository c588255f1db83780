package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/treue/treue/plugin/standard"
)

// loader drives the traffic: workers take a customer, send its next delivery
// (retrying 5xx and connection errors like a shop), and put it back.
type loader struct {
	o       *options
	traffic *traffic
	client  *http.Client
	ready   chan *customer
	stop    chan struct{}
	start   time.Time

	issued   atomic.Int64 // first attempts started
	inFlight atomic.Int64
	acks     atomic.Int64 // deliveries acknowledged (2xx)
	attempts atomic.Int64
	retries  atomic.Int64
	gaveUp   atomic.Int64
	rejected atomic.Int64 // 4xx: the tool sent something Treue refuses

	// Answers that break "exactly once": a delivery acknowledged before was
	// answered "stored" again (so it had been lost), or a never-sent id was
	// answered "duplicate".
	storedAgain    atomic.Int64
	unexpectedDups atomic.Int64

	mu        sync.Mutex
	statuses  map[string]int64 // per attempt: "200 stored", "503", "conn_error", …
	latencies []time.Duration  // of 2xx answers
	windows   []int64          // acks per second since start

	acksMu  sync.Mutex
	acksOut *bufio.Writer
}

func newLoader(o *options, t *traffic, customers []*customer) *loader {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * o.concurrency,
		MaxIdleConnsPerHost: 2 * o.concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	l := &loader{
		o: o, traffic: t, client: &http.Client{Transport: tr, Timeout: o.timeout},
		ready: make(chan *customer, len(customers)), stop: make(chan struct{}),
		statuses: map[string]int64{},
	}
	// Customers take turns in a random order.
	order := rand.New(rand.NewPCG(uint64(o.seed), 7)).Perm(len(customers))
	for _, i := range order {
		l.ready <- customers[i]
	}
	return l
}

// run sends until the duration (or request count) is reached and every
// delivery in flight has its final answer.
func (l *loader) run(ctx context.Context) {
	l.start = time.Now()
	var wg sync.WaitGroup
	for range l.o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.worker()
		}()
	}
	progress := time.NewTicker(time.Second)
	defer progress.Stop()
	deadline := time.NewTimer(l.o.duration)
	defer deadline.Stop()
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	var lastAcks int64
	lastPrint := time.Now()
	stopped := false
	for {
		select {
		case <-finished:
			l.recordWindow(&lastAcks)
			return
		case <-ctx.Done():
			if !stopped {
				stopped = true
				close(l.stop)
			}
		case <-deadline.C:
			if !stopped {
				stopped = true
				close(l.stop)
			}
		case <-progress.C:
			l.recordWindow(&lastAcks)
			if l.o.progress > 0 && time.Since(lastPrint) >= l.o.progress {
				lastPrint = time.Now()
				l.mu.Lock()
				w := l.windows
				k := int(l.o.progress / time.Second)
				var sum int64
				for _, x := range w[max(0, len(w)-k):] {
					sum += x
				}
				errs := int64(0)
				for s, c := range l.statuses {
					if !(len(s) >= 1 && s[0] == '2') {
						errs += c
					}
				}
				l.mu.Unlock()
				fmt.Fprintf(os.Stderr, "load: %4.0fs  %7.0f acks/s  acked %d  in flight %d  retries %d  errors %d\n",
					time.Since(l.start).Seconds(), float64(sum)/float64(min(k, len(w))), l.acks.Load(), l.inFlight.Load(), l.retries.Load(), errs)
			}
		}
	}
}

func (l *loader) recordWindow(last *int64) int64 {
	a := l.acks.Load()
	n := a - *last
	*last = a
	l.mu.Lock()
	l.windows = append(l.windows, n)
	l.mu.Unlock()
	return n
}

func (l *loader) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *loader) worker() {
	var lat []time.Duration
	statuses := map[string]int64{}
	defer func() {
		l.mu.Lock()
		l.latencies = append(l.latencies, lat...)
		for k, v := range statuses {
			l.statuses[k] += v
		}
		l.mu.Unlock()
	}()
	var buf []byte
	for {
		if l.stopped() {
			return
		}
		var c *customer
		select {
		case c = <-l.ready:
		case <-l.stop:
			return
		}
		n := l.issued.Add(1)
		if l.o.requests > 0 && n > l.o.requests {
			l.ready <- c
			return
		}
		if l.o.rate > 0 {
			at := l.start.Add(time.Duration(float64(n-1) / l.o.rate * float64(time.Second)))
			if d := time.Until(at); d > 0 {
				select {
				case <-time.After(d):
				case <-l.stop:
					l.ready <- c
					return
				}
			}
		}
		s := l.traffic.next(c)
		l.inFlight.Add(1)
		buf = l.deliver(s, buf, &lat, statuses)
		l.inFlight.Add(-1)
		if s.acked {
			l.traffic.afterAck(c, s)
		}
		l.ready <- c
	}
}

// deliver sends one delivery until it is acknowledged, refused, or the retry
// budget is spent.
func (l *loader) deliver(s *step, buf []byte, lat *[]time.Duration, statuses map[string]int64) []byte {
	c := s.cust
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			l.retries.Add(1)
		}
		l.attempts.Add(1)
		now := time.Now()
		var body []byte
		if s.tmpl != nil {
			buf = s.tmpl.render(buf[:0], s, now)
			body = buf
		} else {
			body = s.body
		}
		var req *http.Request
		if c.shop.Platform == "shopware" {
			req, _ = http.NewRequest(http.MethodPost, l.o.url+"/webhooks/shopware", bytes.NewReader(body))
			m := hmac.New(sha256.New, c.shop.hmacKey)
			m.Write(body)
			req.Header.Set("shopware-shop-signature", hex.EncodeToString(m.Sum(nil)))
		} else {
			req, _ = http.NewRequest(http.MethodPost, l.o.url+"/webhooks/standard/"+c.shop.Key, bytes.NewReader(body))
			ts := now.Unix()
			req.Header.Set("webhook-id", s.deliveryID)
			req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
			req.Header.Set("webhook-signature", standard.SignatureHeader(c.shop.hmacKey, s.deliveryID, ts, body))
		}
		req.Header.Set("Content-Type", "application/json")
		s.attempted = true
		resp, err := l.client.Do(req)
		var answer []byte
		code := 0
		if err == nil {
			answer, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			code = resp.StatusCode
		}
		took := time.Since(now)
		var key string
		retry := false
		wait := l.o.retryWait
		switch {
		case err != nil:
			key = "conn_error"
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				key = "timeout"
			}
			retry = true
		case code >= 200 && code < 300:
			status := "stored"
			switch {
			case bytes.Contains(answer, []byte(`"status":"duplicate"`)):
				status = "duplicate"
			case bytes.Contains(answer, []byte(`"status":"ignored"`)):
				status = "ignored"
			}
			key = strconv.Itoa(code) + " " + status
			*lat = append(*lat, took)
			l.ack(s, status, attempt)
		case code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests || code >= 500:
			key = strconv.Itoa(code)
			retry = true
			if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && ra > 0 {
				wait = min(time.Duration(ra)*time.Second, l.o.retryWaitMax)
			}
		default:
			key = strconv.Itoa(code)
			l.rejected.Add(1)
			if l.rejected.Load() <= 5 {
				fmt.Fprintf(os.Stderr, "load: %s %s %s: %d %s\n", c.shop.Key, s.topic, s.deliveryID, code, bytes.TrimSpace(answer))
			}
		}
		statuses[key]++
		if s.acked || !retry {
			if !s.acked {
				s.gaveUp = true
				l.gaveUp.Add(1)
			}
			return buf
		}
		if attempt >= l.o.maxRetries {
			s.gaveUp = true
			l.gaveUp.Add(1)
			return buf
		}
		// Jittered, so that retries after an outage do not arrive in lockstep.
		time.Sleep(wait/2 + rand.N(wait))
	}
}

// ack records an acknowledged delivery and checks the answer against what
// was acknowledged before.
func (l *loader) ack(s *step, status string, attempt int) {
	s.acked, s.status = true, status
	l.acks.Add(1)
	switch {
	case s.resend && status == "stored":
		// The same id was acknowledged earlier: it must have been in the inbox.
		l.storedAgain.Add(1)
		if !l.o.expectDedup {
			break
		}
		fmt.Fprintf(os.Stderr, "load: LOST: %s %s was acknowledged before and now answered stored\n", s.cust.shop.Key, s.deliveryID)
	case !s.resend && attempt == 0 && status == "duplicate":
		l.unexpectedDups.Add(1)
	}
	if l.acksOut != nil {
		l.acksMu.Lock()
		fmt.Fprintf(l.acksOut, "%s\t%s\t%s\t%s\n", s.cust.shop.Key, s.deliveryID, status, s.stepKey)
		l.acksMu.Unlock()
	}
}

// report summarises the answers.
type sendReport struct {
	Seconds      float64          `json:"seconds"`
	Deliveries   int64            `json:"deliveries"` // distinct deliveries attempted (incl. duplicate sends)
	Acked        int64            `json:"acked"`
	Rate         float64          `json:"acks_per_second"`
	MinWindow    float64          `json:"min_5s_acks_per_second"` // slowest 5 s window after the first
	Attempts     int64            `json:"attempts"`
	Retries      int64            `json:"retries"`
	GaveUp       int64            `json:"gave_up"`
	Rejected     int64            `json:"rejected_4xx"`
	StoredAgain  int64            `json:"acked_then_stored_again"`
	UnexpDups    int64            `json:"unexpected_duplicates"`
	Statuses     map[string]int64 `json:"answers"`
	P50          float64          `json:"p50_ms"`
	P95          float64          `json:"p95_ms"`
	P99          float64          `json:"p99_ms"`
	Max          float64          `json:"max_ms"`
	ServerMaxRSS int64            `json:"server_max_rss_kb,omitempty"`
	LoadAvg      string           `json:"loadavg,omitempty"`
	CPU          *cpuReport       `json:"cpu,omitempty"`
}

func (l *loader) report(elapsed time.Duration) sendReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := sendReport{Seconds: elapsed.Seconds(), Acked: l.acks.Load(), Attempts: l.attempts.Load(), Retries: l.retries.Load(),
		GaveUp: l.gaveUp.Load(), Rejected: l.rejected.Load(), StoredAgain: l.storedAgain.Load(), UnexpDups: l.unexpectedDups.Load(),
		Statuses: l.statuses}
	r.Deliveries = r.Attempts - r.Retries
	r.Rate = float64(r.Acked) / r.Seconds
	// The slowest 5 s window, leaving out the first (warm-up) and the last (drain).
	w := l.windows
	if len(w) > 12 {
		w = w[5 : len(w)-2]
		r.MinWindow = -1
		for i := 0; i+5 <= len(w); i++ {
			var s int64
			for _, x := range w[i : i+5] {
				s += x
			}
			if v := float64(s) / 5; r.MinWindow < 0 || v < r.MinWindow {
				r.MinWindow = v
			}
		}
	}
	lat := l.latencies
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(float64(len(lat))*p+0.5) - 1
		return float64(lat[min(max(i, 0), len(lat)-1)]) / 1e6
	}
	r.P50, r.P95, r.P99, r.Max = pct(0.50), pct(0.95), pct(0.99), pct(1)
	return r
}
