package main

import (
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
