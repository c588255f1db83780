package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/handlers"
	"github.com/treue/treue/journey"
	"github.com/treue/treue/rules"
	"github.com/treue/treue/webhooks/process"
)

// rulesCmd runs `treue rules check FILE...` and `treue rules simulate`.
func (m *Main) rulesCmd(ctx context.Context, configPath string, args []string) error {
	if len(args) > 0 && args[0] == "simulate" {
		return m.rulesSimulate(ctx, configPath, args[1:])
	}
	if len(args) == 0 || args[0] != "check" {
		return usageError{mustUsage("rules")}
	}
	if len(args) < 2 {
		return usageError{mustUsage("rules check")}
	}
	failed := false
	for _, path := range args[1:] {
		set, err := rules.Load(path)
		var diags rules.Diagnostics
		switch {
		case errors.As(err, &diags):
			for _, d := range diags {
				fmt.Fprintln(m.Stdout, d.String())
			}
			failed = true
		case err != nil:
			fmt.Fprintf(m.Stdout, "%s: %v\n", path, err)
			failed = true
		default:
			fmt.Fprintf(m.Stdout, "%s: ok, %d rules, version %s\n", path, len(set.Rules), set.Version)
		}
	}
	if failed {
		return errSilentFailure
	}
	return nil
}

// errSilentFailure exits 1 after the command already printed why.
var errSilentFailure = errors.New("")

// reloader keeps the active rules in step with the file: it polls the file's
// modification time and reloads on SIGHUP. A file that does not compile is
// reported (log and metric) and the previous rules stay active.
type reloader struct {
	holder *rules.Holder
	path   string
	log    *slog.Logger
	failed prometheus.Counter
	loads  prometheus.Counter

	mu       sync.Mutex
	loadedAt time.Time
	modTime  time.Time
	lastErr  error
}

func newReloader(path string, log *slog.Logger, reg prometheus.Registerer) *reloader {
	r := &reloader{
		holder: rules.NewHolder(nil), path: path, log: log,
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "treue_rules_reload_failures_total", Help: "Rules file loads that failed; the previous rules stayed active."}),
		loads:  prometheus.NewCounter(prometheus.CounterOpts{Name: "treue_rules_loads_total", Help: "Rules file loads that succeeded."}),
	}
	reg.MustRegister(r.failed, r.loads)
	return r
}

// load reads the file now. Missing files are not an error at startup (the
// service runs without rules until one appears), broken ones are.
func (r *reloader) load() error {
	st, err := os.Stat(r.path)
	if errors.Is(err, os.ErrNotExist) {
		r.log.Warn("rules file not found: no actions are planned until it exists", "file", r.path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("rules.file: %w", err)
	}
	r.mu.Lock()
	r.modTime = st.ModTime()
	r.mu.Unlock()
	set, err := r.holder.Reload(r.path)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastErr = err
	if err != nil {
		r.failed.Inc()
		return err
	}
	r.loadedAt = time.Now().UTC()
	r.loads.Inc()
	r.log.Info("rules loaded", "file", r.path, "version", set.Version, "rules", len(set.Rules))
	return nil
}

// run watches for changes until ctx ends.
func (r *reloader) run(ctx context.Context, every time.Duration) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload("SIGHUP")
		case <-tick.C:
			st, err := os.Stat(r.path)
			r.mu.Lock()
			changed := err == nil && !st.ModTime().Equal(r.modTime)
			r.mu.Unlock()
			if changed {
				r.reload("file changed")
			}
		}
	}
}

func (r *reloader) reload(why string) {
	if err := r.load(); err != nil {
		var diags rules.Diagnostics
		if errors.As(err, &diags) {
			for _, d := range diags {
				r.log.Error("rules file invalid; previous rules stay active", "reason", why, "problem", d.String())
			}
			return
		}
		r.log.Error("rules reload failed; previous rules stay active", "reason", why, "err", err)
	}
}

// RulesStatus implements handlers.RulesSource.
func (r *reloader) RulesStatus() handlers.RulesStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := handlers.RulesStatus{File: r.path, Set: r.holder.Get(), LoadedAt: r.loadedAt}
	if r.lastErr != nil {
		st.LastError = r.lastErr.Error()
	}
	return st
}

// rulesSimulate runs `treue rules simulate`: a backtest of a rules file over
// a shop's stored journeys, in a scratch SQLite database that is thrown away.
// simulateFlags are the flags of `rules simulate`.
type simulateFlags struct {
	shop, since string
	customers   int
}

func (f *simulateFlags) flagSet() *flag.FlagSet {
	fs := newFlagSet("rules simulate")
	fs.StringVar(&f.shop, "shop", "", "shop `KEY` (required)")
	fs.StringVar(&f.since, "since", "", "count actions of events from this day on (YYYY-MM-DD, UTC)")
	fs.IntVar(&f.customers, "customers", 0, "replay at most this many customers (0: all)")
	return fs
}

func (m *Main) rulesSimulate(ctx context.Context, configPath string, args []string) error {
	var f simulateFlags
	fs := f.flagSet()
	// The file may come before or after the flags.
	err := fs.Parse(args)
	var file string
	if err == nil && fs.NArg() > 0 {
		file = fs.Arg(0)
		err = fs.Parse(fs.Args()[1:])
	}
	if err != nil || file == "" || fs.NArg() > 0 || f.shop == "" || f.customers < 0 {
		return usageError{mustUsage("rules simulate")}
	}
	var since time.Time
	if f.since != "" {
		if since, err = time.Parse(time.DateOnly, f.since); err != nil {
			return usageError{fmt.Sprintf("rules simulate: --since %q: want YYYY-MM-DD", f.since)}
		}
	}
	set, err := rules.Load(file)
	var diags rules.Diagnostics
	if errors.As(err, &diags) {
		for _, d := range diags {
			fmt.Fprintln(m.Stdout, d.String())
		}
		return errSilentFailure
	} else if err != nil {
		return err
	}

	e, err := m.openReady(ctx, configPath, false)
	if err != nil {
		return err
	}
	defer e.store.Close()
	shop, err := e.store.ShopByKey(ctx, f.shop)
	if err != nil {
		return fmt.Errorf("rules simulate: shop %s: %w", f.shop, err)
	}
	bar := newProgressBar(m.Stderr, "rules simulate", "customers", "replayed")
	bt := &process.Backtest{Live: e.store, Rules: set, Options: journey.DefaultOptions, Log: e.log, Progress: bar.update}
	rep, err := bt.Run(ctx, shop, since, f.customers)
	bar.done()
	if err != nil {
		return err
	}
	e.log.Debug("rules simulated", "shop", shop.Key, "customers", rep.Customers, "events", rep.Events, "duration_ms", time.Since(bar.start).Milliseconds())

	period := "all events"
	if !since.IsZero() {
		period = "events since " + since.Format(time.DateOnly)
	}
	fmt.Fprintf(m.Stdout, "%s (version %s) replayed over shop %s: %s, %s; actions of %s\n\n",
		file, set.Version, shop.Key, count(rep.Customers, "customer"), count(rep.Events, "event"), period)
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "RULE\tSIMULATED planned/suppressed/cancelled\tRECORDED planned/suppressed/cancelled\tPLANNED CHANGE")
	for _, r := range rep.Rules {
		s, l := r.Simulated, r.Live
		fmt.Fprintf(w, "%s\t%d/%d/%d\t%d/%d/%d\t%+d\n", r.RuleID, s.Planned, s.Suppressed, s.Cancelled, l.Planned, l.Suppressed, l.Cancelled, s.Planned-l.Planned)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "\nRECORDED is what the rules in force at the time planned. Daily-scan actions (win-back, birthdays) are not replayed: %d recorded in the period.\n", rep.ScanActions)
	return simulateSpend(m.Stdout, set, rep)
}

// count writes n and noun, in the plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
