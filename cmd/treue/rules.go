package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/handlers"
	"github.com/treue/treue/rules"
)

// rulesCmd runs `treue rules check FILE...`.
func (m *Main) rulesCmd(args []string) error {
	if len(args) < 2 || args[0] != "check" {
		return usageError{"usage: treue rules check FILE..."}
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
