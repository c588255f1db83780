package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/treue/treue/handlers"
	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
	"github.com/treue/treue/webhooks"
)

func (m *Main) serve(ctx context.Context, configPath string) error {
	e, err := m.open(ctx, configPath, true)
	if err != nil {
		return err
	}
	defer e.store.Close()
	cfg, log, st := e.cfg, e.log, e.store

	// SQLite is the single-process default, so serve keeps its schema current;
	// on MySQL replicas must not race DDL unless the operator asks for it.
	if cfg.Database.Driver == "sqlite" || cfg.Database.AutoMigrate {
		v, err := st.Migrate(ctx)
		if err != nil {
			return err
		}
		log.Info("database schema current", "version", v, "driver", cfg.Database.Driver)
	} else if err := st.CheckSchema(ctx); err != nil {
		return err
	}
	if err := syncShops(ctx, st, cfg.Shops, log); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	now := func() time.Time { return time.Now().UTC() }
	receivers := map[models.Platform]plugin.Receiver{
		models.PlatformStandard: standard.New(cfg.Webhooks.TimestampTolerance),
	}
	intake := &webhooks.Intake{Receivers: receivers, Shops: st, Inbox: st, Now: now}
	proc := &webhooks.Processor{
		Store: st, Receivers: receivers, Log: log, Options: journey.DefaultOptions,
		BatchSize: cfg.Webhooks.BatchSize, Poll: cfg.Webhooks.PollInterval, MaxAttempts: cfg.Webhooks.MaxAttempts,
		Now: now, Metrics: webhooks.NewMetrics(reg),
	}
	engine, err := handlers.New(handlers.Config{
		Log: log, Registry: reg, Health: st, Intake: intake,
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes, TrustedProxies: cfg.HTTP.TrustedProxies,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http.addr: %w", err)
	}
	srv := &http.Server{
		Handler:           engine,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
	}

	// Workers stop on their own context, after HTTP has drained, so that
	// nothing acknowledged during the drain waits for a worker that is gone.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		proc.Run(workCtx)
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("treue listening", "addr", ln.Addr().String(), "version", buildVersion(), "config", cfg)
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}

	select {
	case err := <-serveErr:
		stopWork()
		wg.Wait()
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining HTTP requests", "timeout", cfg.HTTP.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown incomplete", "err", err)
	}
	stopWork()
	wg.Wait()
	log.Info("stopped")
	return nil
}
