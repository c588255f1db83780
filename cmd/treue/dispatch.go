package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/config"
	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/magento"
	"github.com/treue/treue/plugin/shopify"
	"github.com/treue/treue/plugin/shopware"
	"github.com/treue/treue/plugin/standard"
	"github.com/treue/treue/webhooks/dispatch"
)

// newDispatcher wires the connectors, all sharing one outbound client that
// refuses private and metadata addresses unless the config allows them.
func newDispatcher(cfg config.Config, st *store.Store, log *slog.Logger, reg prometheus.Registerer, now func() time.Time, rl *reloader) *dispatch.Dispatcher {
	if !cfg.Dispatch.Enabled {
		log.Info("action dispatch is disabled (dispatch.enabled: false): actions wait in the outbox")
		return nil
	}
	client := egress.NewClient(cfg.Dispatch.EgressOptions())
	d := &dispatch.Dispatcher{
		Store: st, Log: log, Now: now,
		Connectors: map[string]plugin.Connector{
			models.ConnectorShopware: shopware.NewConnector(client),
			models.ConnectorMagento:  magento.NewConnector(client),
			models.ConnectorShopify:  shopify.NewConnector(client),
		},
		Notify:  standard.NewNotifier(client),
		Workers: cfg.Dispatch.Workers, BatchSize: cfg.Dispatch.BatchSize, Lease: cfg.Dispatch.Lease,
		Poll: cfg.Dispatch.PollInterval, MaxAttempts: cfg.Dispatch.MaxAttempts,
		Backoff:   dispatch.Backoff{Base: cfg.Dispatch.BackoffBase, Cap: cfg.Dispatch.BackoffCap},
		Breaker:   dispatch.BreakerConfig{Failures: cfg.Dispatch.BreakerFailures, Cooldown: cfg.Dispatch.BreakerCooldown},
		RateLimit: dispatch.RateLimitConfig{Rate: cfg.Dispatch.RatePerSecond, Burst: cfg.Dispatch.Burst},
		Tier: func(points int64) string {
			if set := rl.holder.Get(); set != nil {
				return set.Tier(points)
			}
			return ""
		},
		Metrics: dispatch.NewMetrics(reg),
	}
	return d
}

// warnRefusedShopURLs checks the stored shops' URLs as the config's are
// checked at load (egress.CheckURL): a shop registered or added under other
// dispatch settings may have one the dispatcher now refuses, and each of its
// actions would fail until it is fixed. Shops stay as they are; the warning
// names the shop and the field.
func warnRefusedShopURLs(ctx context.Context, st *store.Store, opts egress.Options, log *slog.Logger) {
	shops, err := st.ListShops(ctx)
	if err != nil {
		log.WarnContext(ctx, "checking the shops' URLs failed", "err", err)
		return
	}
	for _, sh := range shops {
		for _, u := range []struct{ field, url string }{{"url", sh.URL}, {"notify_url", sh.Secrets.NotifyURL}} {
			if u.url == "" {
				continue
			}
			if err := egress.CheckURL(u.url, opts); err != nil {
				var be *egress.BlockedError
				var ue *egress.URLError
				if !errors.As(err, &be) && !errors.As(err, &ue) {
					// Not a URL at all: its text may hold a token, so it is not logged.
					err = errors.New("not a URL")
				}
				log.WarnContext(ctx, "shop URL refused by the dispatch settings (dispatch.allow_private, dispatch.allow_hosts): its actions will fail",
					"shop", sh.Key, "field", u.field, "err", err)
			}
		}
	}
}
