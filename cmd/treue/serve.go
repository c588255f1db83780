package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/treue/treue/audit"
	"github.com/treue/treue/config"
	"github.com/treue/treue/handlers"
	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/adobe"
	"github.com/treue/treue/plugin/shopify"
	"github.com/treue/treue/plugin/shopware"
	"github.com/treue/treue/plugin/standard"
	"github.com/treue/treue/rules"
	"github.com/treue/treue/shopread"
	"github.com/treue/treue/support"
	"github.com/treue/treue/webhooks/dispatch"
	"github.com/treue/treue/webhooks/inbox"
	"github.com/treue/treue/webhooks/privacy"
	"github.com/treue/treue/webhooks/process"
)

func (m *Main) serve(ctx context.Context, configPath string) error {
	e, err := m.open(ctx, configPath, true)
	if err != nil {
		return err
	}
	defer e.store.Close()
	cfg, log, st := e.cfg, e.log, e.store

	// SQLite is the single-process default, so Treue keeps its schema current;
	// on MySQL replicas must not race DDL unless the operator asks for it.
	if err := e.readySchema(ctx); err != nil {
		return err
	}
	if err := syncShops(ctx, st, cfg.Shops, log); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	now := func() time.Time { return time.Now().UTC() }
	adobeKeys, err := adobeKeySource(cfg, log)
	if err != nil {
		return err
	}
	receivers := map[models.Platform]plugin.Receiver{
		models.PlatformStandard: standard.New(cfg.Webhooks.TimestampTolerance),
		models.PlatformShopware: shopware.New(cfg.Webhooks.TimestampTolerance),
		models.PlatformShopify:  shopify.New(),
		models.PlatformAdobe:    adobe.New(adobeKeys),
	}
	// A short shop cache saves a read (and a decryption) per delivery, and
	// remembers shops that do not exist, so that deliveries for them do not
	// cost a statement each either.
	zones := &plugin.Zones{}
	shops, err := newShopCache(ctx, cfg.Webhooks, st, now)
	if err != nil {
		return err
	}
	intake := &inbox.Intake{Receivers: receivers, Zones: zones, Shops: shops, Inbox: st, Now: now, StockLookups: st}
	// Group commit: concurrent deliveries share one inbox transaction (one
	// fsync); each is still answered only after the commit that holds it.
	var groupCommit *inbox.GroupCommitter
	if cfg.Webhooks.GroupCommit {
		maxWait := cfg.Webhooks.GroupCommitMaxWait
		if maxWait == 0 {
			maxWait = -1 // 0s in the config: commit what is queued, do not wait
		}
		groupCommit = &inbox.GroupCommitter{Store: st, MaxBatch: cfg.Webhooks.GroupCommitMaxBatch,
			MaxWait: maxWait, Log: log, Metrics: inbox.NewGroupCommitMetrics(reg)}
		intake.Inbox = groupCommit
	}
	rl := newReloader(cfg.Rules.File, log, reg)
	reg.MustRegister(newBudgetMetrics(st, rl.holder.Get, now, log))
	if err := rl.load(); err != nil {
		var diags rules.Diagnostics
		if errors.As(err, &diags) {
			return fmt.Errorf("rules.file %s is invalid (check it with `treue rules check %s`):\n%w", cfg.Rules.File, cfg.Rules.File, err)
		}
		return err
	}
	planner := &process.RulesPlanner{Rules: rl.holder, Log: log, Now: now, Options: journey.DefaultOptions}
	proc := &process.Processor{
		Store: st, Receivers: receivers, Zones: zones, Planner: planner, Log: log, Options: journey.DefaultOptions,
		BatchSize: cfg.Webhooks.BatchSize, BacklogBatchSize: cfg.Webhooks.BacklogBatchSize, Poll: cfg.Webhooks.PollInterval, MaxAttempts: cfg.Webhooks.MaxAttempts,
		Now: now, Metrics: process.NewMetrics(reg), Windows: reportWindows(cfg.Reports),
		StockPerHour: cfg.Stock.NotifyPerHour, StockPage: cfg.Stock.PageSize,
	}
	if cfg.Webhooks.JourneyCacheEvents > 0 {
		proc.Journeys = &process.JourneyCache{MaxEvents: cfg.Webhooks.JourneyCacheEvents}
		registerJourneyCache(reg, proc.Journeys)
	}
	accessLog := &audit.Log{Store: st, Log: log, Every: 100 * time.Millisecond, Max: 1000}
	var registrar handlers.ShopwareRegistrar
	if cfg.Shopware.AppName != "" {
		// A registering shop's URL is held to what the dispatcher may call.
		egressOpts := cfg.Dispatch.EgressOptions()
		r := &shopware.Registrar{
			AppName: cfg.Shopware.AppName, AppSecret: cfg.Shopware.AppSecret,
			ConfirmURL: strings.TrimSuffix(cfg.HTTP.PublicURL, "/") + "/shopware/confirm",
			Store:      st, Now: now, Tolerance: cfg.Webhooks.TimestampTolerance,
			Egress: &egressOpts,
		}
		registrar = shopwareRegistrar{r, shops, st}
		// app.deleted forgets the registration, so that a reinstall registers afresh.
		intake.Uninstall = uninstaller{r, shops}
	}
	dispatcher := newDispatcher(cfg, st, log, reg, now, rl)
	if dispatcher != nil {
		warnRefusedShopURLs(ctx, st, cfg.Dispatch.EgressOptions(), log)
	}
	// The console says why an action waits; this process's dispatcher knows.
	var dispatchState handlers.DispatchState = dispatch.Off{}
	if dispatcher != nil {
		dispatchState = dispatcher
	}
	engine, err := handlers.New(handlers.Config{
		Log: log, Registry: reg, Health: st, Intake: intake, Shopware: registrar, AdobeChallenge: adobe.Challenge, Rules: rl,
		Tokens: &handlers.CachedTokens{Tokens: st, Now: now}, Customers: &support.Service{Store: support.Reads(st), Access: accessLog, Dispatch: dispatchState, Shops: shops}, Actions: actionAdmin{st}, Privacy: &privacy.Service{Store: st, Options: journey.DefaultOptions, Log: log, Now: now},
		Points: func(ctx context.Context, shopID, customerID int64) (int64, string, error) {
			balance, err := st.ForShop(shopID).PointsBalance(ctx, customerID)
			if err != nil {
				return 0, "", err
			}
			tier := ""
			if set := rl.holder.Get(); set != nil {
				tier = set.Tier(balance)
			}
			return balance, tier, nil
		},
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes, TrustedProxies: cfg.HTTP.TrustedProxies, DBTimeout: cfg.Database.RequestTimeout,
		Dispatch: dispatchState, Shops: st, Reports: newRulesReporter(st, cfg.Reports, now, rl.holder.Get), Loyalty: st, Budget: budgetReporter{st: st, set: rl.holder.Get},
		AuthFailures: handlers.AuthFailureLimit{Rate: cfg.HTTP.AuthFailureRate, Burst: cfg.HTTP.AuthFailureBurst, Clients: cfg.HTTP.AuthFailureClients},
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
	if groupCommit != nil {
		// It stops with the workers, after HTTP has drained, and commits what
		// is still queued first: no request waits on a committer that is gone.
		wg.Add(1)
		go func() {
			defer wg.Done()
			groupCommit.Run(workCtx)
		}()
	}
	scanner := &process.Scanner{Store: st, Planner: planner, Options: journey.DefaultOptions, Log: log, Now: now,
		Every: cfg.Rules.ScanInterval, Batch: 200, Metrics: proc.Metrics}
	retention := &privacy.Retention{Store: st, Log: log, Now: now, Every: time.Hour, Batch: 500,
		RawPayload: time.Duration(cfg.Retention.RawPayloadDays) * 24 * time.Hour, Events: time.Duration(cfg.Retention.EventDays) * 24 * time.Hour}
	reconcile := &shopread.Schedule{Runner: newShopReader(cfg, st, log, reg, now, planner), Shops: st.ListShops,
		Every: cfg.ReconcileEvery, Lookback: cfg.Reconcile.Lookback}
	carts := &process.CartPass{Processor: proc, After: cfg.Carts.AbandonAfter, Lookback: cfg.Carts.Lookback,
		Every: cfg.Carts.PassInterval, Log: log}
	stockLookups := &process.StockLookups{Processor: proc, Readers: newStockReaders(cfg, m.ShopifyAPI),
		Every: cfg.Webhooks.PollInterval, Log: log}
	wg.Add(9)
	go func() {
		defer wg.Done()
		stockLookups.Run(workCtx)
	}()
	go func() {
		defer wg.Done()
		accessLog.Run(workCtx)
	}()
	go func() {
		defer wg.Done()
		carts.Run(workCtx)
	}()
	go func() {
		defer wg.Done()
		reconcile.Run(workCtx)
	}()
	go func() {
		defer wg.Done()
		if dispatcher != nil {
			dispatcher.Run(workCtx)
		}
	}()
	go func() {
		defer wg.Done()
		retention.Run(workCtx)
	}()
	go func() {
		defer wg.Done()
		scanner.Run(workCtx)
	}()
	go func() {
		defer wg.Done()
		proc.Run(workCtx)
	}()
	go func() {
		defer wg.Done()
		rl.run(workCtx, 2*time.Second)
	}()

	if cfg.HTTP.PprofAddr != "" {
		_, stopPprof, err := servePprof(cfg.HTTP.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	base := baseURL(cfg.HTTP, ln.Addr().String())
	log.Info("treue listening", "addr", ln.Addr().String(), "console", base+"/console/", "version", buildVersion(), "config", cfg)
	for _, sh := range cfg.Shops {
		log.Info("shop webhook URL", "shop", sh.Key, "platform", sh.Platform, "url", base+webhookPath(sh))
	}
	if cfg.Shopware.AppName != "" {
		log.Info("shopware app registration URL", "url", base+"/shopware/register")
	}
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

// baseURL is where shops and people reach Treue: http.public_url when it is
// set (behind a proxy, or for Shopware), else the address serve listens on.
func baseURL(c config.HTTP, listen string) string {
	if c.PublicURL != "" {
		return strings.TrimSuffix(c.PublicURL, "/")
	}
	return config.ClientURL(listen)
}

// webhookPath is the path a shop posts its webhooks to. Shopify and
// Shopware shops share one path each and are told apart by the body or a
// header; the others carry their key in the path.
func webhookPath(s config.Shop) string {
	switch models.Platform(s.Platform) {
	case models.PlatformShopify:
		return "/webhooks/shopify"
	case models.PlatformShopware:
		return "/webhooks/shopware"
	case models.PlatformAdobe:
		return "/webhooks/adobe/" + url.PathEscape(s.Key)
	default:
		return "/webhooks/standard/" + url.PathEscape(s.Key)
	}
}

// newShopCache is the intake's shop cache, told every stored shop, so that
// a shop's first delivery after a start is looked up even for a sender that
// failed to authenticate too often (inbox.OnlyKnownShops).
func newShopCache(ctx context.Context, cfg config.Webhooks, st *store.Store, now func() time.Time) (*inbox.ShopCache, error) {
	c := &inbox.ShopCache{Shops: st, TTL: 2 * time.Second, MissTTL: cfg.UnknownShopTTL, MaxMisses: cfg.UnknownShopCacheSize, Now: now}
	if cfg.UnknownShopTTL == 0 {
		c.MissTTL = -1 // 0s in the config: misses are not remembered
	}
	all, err := st.ListShops(ctx)
	if err != nil {
		return nil, fmt.Errorf("load shops: %w", err)
	}
	c.Remember(all...)
	return c, nil
}

// shopwareRegistrar adapts the Shopware handshake to the HTTP layer. A
// confirmed registration changes a shop's secrets (or creates the shop), so
// the intake's cache is emptied: the shop's next delivery is checked against
// the stored row, not a copy read a moment before.
type shopwareRegistrar struct {
	r     *shopware.Registrar
	cache *inbox.ShopCache
	store *store.Store
}

func (s shopwareRegistrar) Register(ctx context.Context, rawQuery string, h http.Header) (any, error) {
	return s.r.Register(ctx, rawQuery, h)
}

func (s shopwareRegistrar) Confirm(ctx context.Context, h http.Header, body []byte) error {
	if err := s.r.Confirm(ctx, h, body); err != nil {
		return err
	}
	s.cache.Clear()
	// A new shop becomes known, so that its deliveries are looked up even
	// from a rate-limited address. Should the list fail, only such a
	// delivery waits for the sender's retry; the registration stands.
	if all, err := s.store.ListShops(ctx); err == nil {
		s.cache.Remember(all...)
	}
	return nil
}

// uninstaller forgets an app's registration and drops the shop from the
// intake's cache at once, so that the removed app's secret is refused from
// the next delivery on.
type uninstaller struct {
	inbox.Uninstaller
	cache *inbox.ShopCache
}

func (u uninstaller) Uninstalled(ctx context.Context, shop *models.Shop) error {
	if err := u.Uninstaller.Uninstalled(ctx, shop); err != nil {
		return err
	}
	u.cache.Drop(shop)
	return nil
}

// adobeKeySource uses the PEM files configured for Adobe shops when there are
// any (hosts that cannot reach Adobe), and otherwise fetches the keys from
// Adobe's documented host, cached. Every file serves every Adobe shop.
func adobeKeySource(cfg config.Config, log *slog.Logger) (adobe.KeySource, error) {
	var files []string
	for _, s := range cfg.Shops {
		files = append(files, s.PublicKeyFiles...)
	}
	if len(files) > 0 {
		keys, err := adobe.LoadKeyFiles(files...)
		if err != nil {
			return nil, fmt.Errorf("shops: public_key_files: %w", err)
		}
		// Said once at start, since nothing is fetched from then on: when Adobe
		// rotates its keys these files are what needs replacing.
		log.Info("adobe: signatures are checked with public_key_files only", "files", keys.Files())
		return keys, nil
	}
	return adobe.NewKeyFetcher(&http.Client{Timeout: 5 * time.Second}, time.Now), nil
}

// servePprof serves Go's profiler on its own listener, away from the API.
func servePprof(addr string, log *slog.Logger) (net.Addr, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("http.pprof_addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	log.Warn("profiler listening: do not expose it", "addr", ln.Addr().String())
	return ln.Addr(), func() { srv.Close() }, nil
}

// registerJourneyCache exports the journey cache's lookups: a low share of
// hits says the customers' deliveries are too far apart for it to help.
func registerJourneyCache(reg prometheus.Registerer, c *process.JourneyCache) {
	for _, result := range []string{"hit", "miss"} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "treue_journey_cache_lookups_total", Help: "Customers whose events a processing batch looked up in the journey cache, by whether it held them unchanged (webhooks.journey_cache_events).",
			ConstLabels: prometheus.Labels{"result": result},
		}, func() float64 {
			hits, misses := c.Stats()
			if result == "hit" {
				return float64(hits)
			}
			return float64(misses)
		}))
	}
}
