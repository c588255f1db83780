// Command load sends realistic, signed shop webhooks to a running Treue and
// then checks in its database that every acknowledged delivery counts exactly
// once: in the inbox, in the customers' journeys and in the planned actions.
//
//	go run ./bench/load --print-config --shops 4 > /tmp/treue-load.yaml
//	treue --config /tmp/treue-load.yaml serve &
//	go run ./bench/load --shops 4 --duration 30s --concurrency 64 \
//	    --dsn 'root:@tcp(127.0.0.1:3306)/treue_load'
//
// Traffic: each customer's orders go placed → paid → shipped → delivered
// (Shopware: placed → paid → shipped → completed), later orders follow, some
// orders are returned and refunded; about 5 % of deliveries are sent twice
// (same id) and 5 % of steps overtake the step before them. Shops post through
// the real endpoints: Standard Webhooks and Shopware app signatures.
//
// The exit status is 1 when a check fails, 2 on a usage error.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

type options struct {
	url          string
	shops        int
	customers    int
	mix          string
	rate         float64
	concurrency  int
	duration     time.Duration
	requests     int64
	seed         int64
	run          string
	dupRate      float64
	oooRate      float64
	returnRate   float64
	maxRetries   int
	retryWait    time.Duration
	retryWaitMax time.Duration
	timeout      time.Duration
	acks         string
	dsn          string
	drain        time.Duration
	waitReady    time.Duration
	fixtures     string
	jsonOut      string
	label        string
	serverPID    int
	dbPID        int
	progress     time.Duration

	printConfig  bool
	listen       string
	serverDriver string
	serverDSN    string
	rules        string
	logLevel     string
	dispatch     bool
	notifyURL    string
	notifySecret string

	checkAcks   string
	summarize   bool
	expectDedup bool
	expect503   bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o := &options{}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "Treue's base URL")
	fs.IntVar(&o.shops, "shops", 4, "number of shops")
	fs.IntVar(&o.customers, "customers", 1000, "customers per shop")
	fs.StringVar(&o.mix, "mix", "standard=3,shopware=1", "platform mix of the shops, as weights")
	fs.Float64Var(&o.rate, "rate", 0, "deliveries per second to start (0: as fast as --concurrency allows)")
	fs.IntVar(&o.concurrency, "concurrency", 64, "deliveries in flight at most")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "how long to send")
	fs.Int64Var(&o.requests, "requests", 0, "stop after this many deliveries (0: no limit)")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the shop secrets and the traffic")
	fs.StringVar(&o.run, "run", "", "run id that prefixes every id sent (default: new per run)")
	fs.Float64Var(&o.dupRate, "dup", 0.05, "share of deliveries sent twice (same delivery id)")
	fs.Float64Var(&o.oooRate, "ooo", 0.05, "share of steps sent before the step they follow")
	fs.Float64Var(&o.returnRate, "returns", 0.1, "share of orders returned and refunded")
	fs.IntVar(&o.maxRetries, "max-retries", 20, "retries of a delivery after 5xx or connection errors, like a shop")
	fs.DurationVar(&o.retryWait, "retry-wait", 250*time.Millisecond, "pause before a retry (jittered)")
	fs.DurationVar(&o.retryWaitMax, "retry-wait-max", time.Second, "cap on a Retry-After pause")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.StringVar(&o.acks, "acks", "", "write every acknowledged delivery to this file (shop, delivery id, answer, step)")
	fs.StringVar(&o.dsn, "dsn", "", "Treue's database, checked after the load: a MySQL DSN, or sqlite:FILE")
	fs.DurationVar(&o.drain, "drain", 120*time.Second, "how long the check waits for the inbox to drain (0: do not wait, check only the inbox: an intake measurement)")
	fs.DurationVar(&o.waitReady, "wait-ready", 30*time.Second, "wait this long for /readyz before sending")
	fs.StringVar(&o.fixtures, "fixtures", "", "directory of the Shopware fixtures (default plugin/shopware/testdata)")
	fs.StringVar(&o.jsonOut, "json", "", "write the results as JSON to this file")
	fs.StringVar(&o.label, "label", "", "label stored in the JSON results (for --summarize)")
	fs.IntVar(&o.serverPID, "server-pid", 0, "sample this process's RSS and CPU during the run")
	fs.IntVar(&o.dbPID, "db-pid", 0, "measure this process's CPU during the run (the database server)")
	fs.DurationVar(&o.progress, "progress", 5*time.Second, "print progress this often (0: never)")
	fs.BoolVar(&o.printConfig, "print-config", false, "print a treue.yaml for these shops and exit")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "--print-config: http.addr")
	fs.StringVar(&o.serverDriver, "server-driver", "mysql", "--print-config: database.driver")
	fs.StringVar(&o.serverDSN, "server-dsn", "root:@tcp(127.0.0.1:3306)/treue_load?parseTime=true", "--print-config: database.dsn")
	fs.StringVar(&o.rules, "rules", "examples/rules.yaml", "--print-config: rules.file")
	fs.StringVar(&o.logLevel, "log-level", "warn", "--print-config: log.level")
	fs.BoolVar(&o.dispatch, "dispatch", false, "--print-config: leave action dispatch on (off by default: the load shops have no API behind them)")
	fs.StringVar(&o.notifyURL, "notify-url", "", "--print-config: every shop sends its actions with the notify connector to this URL (connector: notify, notify_url); turns dispatch on, with dispatch.allow_private (a fake shop on this machine)")
	fs.StringVar(&o.notifySecret, "notify-secret", "", "--print-config: with --notify-url, the shops' notify_secret (whsec_…; default: each shop's webhook secret)")
	fs.StringVar(&o.checkAcks, "check-acks", "", "only check that every delivery in this --acks file is in the inbox of --dsn once")
	fs.BoolVar(&o.expectDedup, "expect-dedup", true, "fail when a resent delivery is answered \"stored\" (false for bench/load/minimal, which stores nothing)")
	fs.BoolVar(&o.expect503, "expect-503", false, "fail unless some answers were 503 (for the outage script)")
	fs.BoolVar(&o.summarize, "summarize", false, "print the medians of the --json result files given as arguments, by label")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.summarize {
		return summarize(fs.Args(), stdout, stderr)
	}
	mix, err := parseMix(o.mix)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	if o.shops < 1 || o.customers < 1 || o.concurrency < 1 {
		fmt.Fprintln(stderr, "load: --shops, --customers and --concurrency must be at least 1")
		return 2
	}
	shops := makeShops(o.shops, mix, o.seed)
	if o.notifySecret != "" && o.notifyURL == "" {
		fmt.Fprintln(stderr, "load: --notify-secret needs --notify-url")
		return 2
	}
	if o.notifyURL != "" && !strings.HasPrefix(o.notifyURL, "http://") && !strings.HasPrefix(o.notifyURL, "https://") {
		fmt.Fprintln(stderr, "load: --notify-url must be an http(s) URL")
		return 2
	}
	if o.printConfig {
		var shown []string
		for _, a := range args {
			if a != "--print-config" && a != "-print-config" {
				shown = append(shown, a)
			}
		}
		if err := printConfig(stdout, shops, configOptions{Addr: o.listen, Driver: o.serverDriver, DSN: o.serverDSN,
			Rules: o.rules, Level: o.logLevel, Seed: o.seed, Args: shown, Dispatch: o.dispatch,
			NotifyURL: o.notifyURL, NotifySecret: o.notifySecret}); err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 1
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.checkAcks != "" {
		if o.dsn == "" {
			fmt.Fprintln(stderr, "load: --check-acks needs --dsn")
			return 2
		}
		n, failures, err := checkAcksFile(ctx, o.dsn, o.checkAcks)
		if err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 1
		}
		for _, f := range failures {
			fmt.Fprintln(stdout, "FAIL", f)
		}
		fmt.Fprintf(stdout, "%d acknowledged deliveries checked, %d not in the inbox exactly once\n", n, len(failures))
		if len(failures) > 0 {
			return 1
		}
		return 0
	}
	return load(ctx, o, shops, stdout, stderr)
}

func load(ctx context.Context, o *options, shops []*shop, stdout, stderr io.Writer) int {
	if o.run == "" {
		o.run = runID()
	}
	t := &traffic{run: o.run, now: time.Now().UTC(), dupRate: o.dupRate, oooRate: o.oooRate, returnRate: o.returnRate}
	for _, s := range shops {
		if s.Platform == "shopware" && t.sw == nil {
			dir, err := fixtureDir(o.fixtures)
			if err != nil {
				fmt.Fprintln(stderr, "load:", err)
				return 2
			}
			if t.sw, err = loadShopwareTemplates(dir); err != nil {
				fmt.Fprintln(stderr, "load:", err)
				return 2
			}
		}
	}
	var customers []*customer
	for _, s := range shops {
		for n := range o.customers {
			customers = append(customers, newCustomer(t, s, n+1, o.seed))
		}
	}
	if err := waitReady(ctx, o.url, o.waitReady); err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	l := newLoader(o, t, customers)
	if o.acks != "" {
		f, err := os.Create(o.acks)
		if err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 2
		}
		defer f.Close()
		l.acksOut = bufio.NewWriterSize(f, 1<<16)
		defer l.acksOut.Flush()
	}
	rss := startRSS(o.serverPID)
	load0 := loadavg()
	cpu0 := readCPU(o.serverPID, o.dbPID)
	platforms := map[string]int{}
	for _, s := range shops {
		platforms[s.Platform]++
	}
	fmt.Fprintf(stderr, "load: run %s: %d shops %v, %d customers, concurrency %d, rate %s, %s → %s\n",
		o.run, len(shops), platforms, len(customers), o.concurrency, rateString(o.rate), o.duration, o.url)
	l.run(ctx)
	elapsed := time.Since(l.start)
	end := time.Now()
	cpu := readCPU(o.serverPID, o.dbPID).since(cpu0)
	if l.acksOut != nil {
		l.acksOut.Flush()
	}
	rep := l.report(elapsed)
	rep.ServerMaxRSS = rss()
	rep.LoadAvg = load0 + " → " + loadavg()
	rep.CPU = cpu
	printSend(stdout, o, rep)

	failed := false
	failf := func(format string, args ...any) {
		failed = true
		fmt.Fprintf(stdout, "FAIL "+format+"\n", args...)
	}
	if rep.StoredAgain > 0 && o.expectDedup {
		failf("%d deliveries acknowledged earlier were answered \"stored\" on a resend: they had been lost", rep.StoredAgain)
	}
	if rep.UnexpDups > 0 && o.expectDedup {
		failf("%d new deliveries were answered \"duplicate\" (delivery ids collide with an earlier run?)", rep.UnexpDups)
	}
	if rep.Rejected > 0 {
		failf("%d deliveries were refused with 4xx (signature or config mismatch?)", rep.Rejected)
	}
	if o.expect503 && rep.Statuses["503"] == 0 {
		failf("no 503 answers, though the database was down (--expect-503)")
	}
	var chk *checkReport
	if o.dsn != "" {
		var err error
		chk, err = check(ctx, o, o.run, shops, customers, end)
		if err != nil {
			fmt.Fprintln(stderr, "load: check:", err)
			return 1
		}
		printCheck(stdout, chk)
		for _, f := range chk.Failures {
			failf("%s", f)
		}
	}
	if o.jsonOut != "" {
		out := struct {
			Label string       `json:"label"`
			Run   string       `json:"run"`
			Args  []string     `json:"args"`
			Send  sendReport   `json:"send"`
			Check *checkReport `json:"check,omitempty"`
			OK    bool         `json:"ok"`
		}{o.label, o.run, os.Args[1:], rep, chk, !failed}
		b, _ := json.MarshalIndent(out, "", "  ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			fmt.Fprintln(stderr, "load:", err)
		}
	}
	if failed {
		fmt.Fprintln(stdout, "RESULT: FAIL")
		return 1
	}
	fmt.Fprintln(stdout, "RESULT: ok")
	return 0
}

func rateString(r float64) string {
	if r <= 0 {
		return "unlimited"
	}
	return strconv.FormatFloat(r, 'f', -1, 64) + "/s"
}

func printSend(w io.Writer, o *options, r sendReport) {
	fmt.Fprintf(w, "run %s: %.1fs, %d deliveries (%d attempts, %d retries, %d gave up)\n", o.run, r.Seconds, r.Deliveries, r.Attempts, r.Retries, r.GaveUp)
	fmt.Fprintf(w, "throughput: %.0f acknowledged/s (%d acknowledged)", r.Rate, r.Acked)
	if r.MinWindow > 0 {
		fmt.Fprintf(w, ", slowest 5 s window %.0f/s", r.MinWindow)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "latency of 2xx answers: p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms\n", r.P50, r.P95, r.P99, r.Max)
	keys := make([]string, 0, len(r.Statuses))
	for k := range r.Statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprint(w, "answers:")
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %d", k, r.Statuses[k])
	}
	fmt.Fprintln(w)
	if r.ServerMaxRSS > 0 {
		fmt.Fprintf(w, "server RSS max: %.1f MB\n", float64(r.ServerMaxRSS)/1024)
	}
	printCPU(w, r.CPU, float64(r.Acked), r.Seconds)
	fmt.Fprintf(w, "load average: %s\n", r.LoadAvg)
}

func printCheck(w io.Writer, c *checkReport) {
	fmt.Fprintf(w, "inbox: %d rows, %d acknowledged, %d missing, %d unknown, %d stored without ack, %d duplicated, %d pending, %d failed\n",
		c.InboxRows, c.AckedDistinct, c.MissingAcked, c.UnknownRows, c.StoredUnacked, c.DuplicateRows, c.Pending, c.Failed)
	drain := fmt.Sprintf("not drained (%d pending)", c.Pending)
	if c.DrainSeconds >= 0 {
		drain = fmt.Sprintf("drained %.1fs after the load", c.DrainSeconds)
	}
	fmt.Fprintf(w, "processing: %.0f deliveries/s; lag (processed_at - received_at) p50 %.2fs  p99 %.2fs  max %.2fs; %s",
		c.ProcessRate, c.LagP50, c.LagP99, c.LagMax, drain)
	if c.MetricsLagP99 > 0 {
		fmt.Fprintf(w, "; treue_inbox_lag_seconds p99 ≤ %gs", c.MetricsLagP99)
	}
	fmt.Fprintln(w)
	if c.DrainSeconds < 0 && c.Pending > 0 && c.Customers == 0 {
		fmt.Fprintln(w, "journeys and actions: not checked (the inbox is not drained)")
		return
	}
	fmt.Fprintf(w, "journeys: %d customers, %d steps acknowledged, %d events, %d missing, %d under another customer, %d unknown, %d count mismatches\n",
		c.Customers, c.StepsAcked, c.Events, c.MissingSteps, c.WrongCustomer, c.UnknownSteps, c.CountMismatch)
	fmt.Fprintf(w, "actions: %d for this run's orders, %d doubled once-per-order actions, %d paid orders, %d without exactly one points award\n",
		c.Actions, c.DupActions, c.PaidOrders, c.MissingPointsAwd)
	if c.MetricsRSSKB > 0 {
		fmt.Fprintf(w, "server process_resident_memory_bytes: %.1f MB\n", float64(c.MetricsRSSKB)/1024)
	}
}

// waitReady polls /readyz.
func waitReady(ctx context.Context, base string, d time.Duration) error {
	deadline := time.Now().Add(d)
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotFound {
				return nil // the minimal server has no /readyz
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s/readyz not ready after %s: %w", base, d, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startRSS samples a process's resident memory; the returned func stops and
// reports the maximum in KiB.
func startRSS(pid int) func() int64 {
	if pid <= 0 {
		return func() int64 { return 0 }
	}
	var maxKB int64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			if kb := readRSS(pid); kb > maxKB {
				maxKB = kb
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-stopped
		return maxKB
	}
}

func readRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// summarize prints the median of each figure per label over result files.
func summarize(files []string, stdout, stderr io.Writer) int {
	type result struct {
		Label string       `json:"label"`
		Send  sendReport   `json:"send"`
		Check *checkReport `json:"check"`
		OK    bool         `json:"ok"`
	}
	byLabel := map[string][]result{}
	var labels []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 1
		}
		var r result
		if err := json.Unmarshal(b, &r); err != nil {
			fmt.Fprintln(stderr, "load:", f, err)
			return 1
		}
		if _, ok := byLabel[r.Label]; !ok {
			labels = append(labels, r.Label)
		}
		byLabel[r.Label] = append(byLabel[r.Label], r)
	}
	if len(labels) == 0 {
		fmt.Fprintln(stderr, "load: --summarize: no result files")
		return 2
	}
	median := func(xs []float64) float64 {
		xs = slices.Clone(xs)
		slices.Sort(xs)
		n := len(xs)
		if n == 0 {
			return math.NaN()
		}
		if n%2 == 1 {
			return xs[n/2]
		}
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "label\truns\tacks/s\tslowest 5s\tp50 ms\tp95 ms\tp99 ms\tmax ms\tprocessed/s\tlag p99 s\tlag max s\tRSS MB\tcores srv/db/all\tchecks")
	for _, l := range labels {
		rs := byLabel[l]
		col := func(f func(r result) float64) float64 {
			var xs []float64
			for _, r := range rs {
				xs = append(xs, f(r))
			}
			return median(xs)
		}
		ok := 0
		for _, r := range rs {
			if r.OK {
				ok++
			}
		}
		lag := func(f func(c *checkReport) float64) string {
			v := col(func(r result) float64 {
				if r.Check == nil {
					return math.NaN()
				}
				return f(r.Check)
			})
			if math.IsNaN(v) {
				return "-"
			}
			return fmt.Sprintf("%.2f", v)
		}
		rss := col(func(r result) float64 { return float64(r.Send.ServerMaxRSS) / 1024 })
		cores := "-"
		if rs[0].Send.CPU != nil {
			c := func(f func(c *cpuReport) float64) float64 {
				return col(func(r result) float64 {
					if r.Send.CPU == nil {
						return math.NaN()
					}
					return f(r.Send.CPU)
				})
			}
			cores = fmt.Sprintf("%.2f/%.2f/%.2f", c(func(c *cpuReport) float64 { return c.Server }),
				c(func(c *cpuReport) float64 { return c.Database }), c(func(c *cpuReport) float64 { return c.Machine }))
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.1f\t%s\t%s\t%s\t%.0f\t%s\t%d/%d ok\n", l, len(rs),
			col(func(r result) float64 { return r.Send.Rate }), col(func(r result) float64 { return r.Send.MinWindow }),
			col(func(r result) float64 { return r.Send.P50 }), col(func(r result) float64 { return r.Send.P95 }),
			col(func(r result) float64 { return r.Send.P99 }), col(func(r result) float64 { return r.Send.Max }),
			lag(func(c *checkReport) float64 { return c.ProcessRate }),
			lag(func(c *checkReport) float64 { return c.LagP99 }), lag(func(c *checkReport) float64 { return c.LagMax }),
			rss, cores, ok, len(rs))
	}
	tw.Flush()
	return 0
}
