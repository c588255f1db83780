package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/config"
	"github.com/treue/treue/egress"
	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/magento"
	"github.com/treue/treue/plugin/shopify"
	"github.com/treue/treue/plugin/shopware"
	"github.com/treue/treue/shopread"
	"github.com/treue/treue/webhooks/process"
)

type importFlags struct {
	shop   string
	since  string
	dryRun bool
}

func (f *importFlags) flagSet() *flag.FlagSet {
	fs := newFlagSet("import")
	fs.StringVar(&f.shop, "shop", "", "the shop `KEY`")
	fs.StringVar(&f.since, "since", "", "read orders created or changed since this `YYYY-MM-DD` (in the shop's time zone)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "read and count the orders, write nothing")
	return fs
}

// orderReaders finds the order reader of a shop by the connector that
// holds its API credentials; Standard Webhooks shops (notify) have none.
func orderReaders(client *http.Client) shopread.Readers {
	readers := map[string]plugin.OrderReader{
		models.ConnectorShopify:  shopify.NewConnector(client),
		models.ConnectorShopware: shopware.NewConnector(client),
		models.ConnectorMagento:  magento.NewConnector(client),
	}
	return func(shop *models.Shop) (plugin.OrderReader, bool) {
		r, ok := readers[shop.ConnectorName()]
		return r, ok
	}
}

// newShopReader wires the API reader on the processor's recording path.
func newShopReader(cfg config.Config, st *store.Store, log *slog.Logger, reg prometheus.Registerer, now func() time.Time, planner process.Planner) *shopread.Runner {
	proc := &process.Processor{Store: st, Planner: planner, Log: log, Options: journey.DefaultOptions, Now: now}
	host, _ := os.Hostname()
	return &shopread.Runner{
		Store: st, Recorder: proc, Log: log, Now: now, Readers: orderReaders(egress.NewClient(cfg.Dispatch.EgressOptions())),
		Owner: fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano()), Lease: 2 * time.Minute, Window: cfg.Reconcile.Window,
		Points: cfg.Import.Points, PageSize: cfg.Import.PageSize, Metrics: shopread.NewMetrics(reg),
	}
}

// importCmd runs `treue import`.
func (m *Main) importCmd(ctx context.Context, configPath string, args []string) error {
	var f importFlags
	usageText := mustUsage("import")
	if err := f.flagSet().Parse(args); err != nil {
		return usageError{err.Error() + "\n" + usageText}
	}
	if f.shop == "" || f.since == "" {
		return usageError{"import needs --shop KEY and --since YYYY-MM-DD\n" + usageText}
	}
	e, err := m.openReady(ctx, configPath, true)
	if err != nil {
		return err
	}
	defer e.store.Close()
	// A shop declared in the file is imported before serve first ran too.
	if err := syncShops(ctx, e.store, e.cfg.Shops, e.log); err != nil {
		return err
	}
	shop, err := e.store.ShopByKey(ctx, f.shop)
	if err != nil {
		return fmt.Errorf("import: --shop %s: %w", f.shop, err)
	}
	since, err := time.ParseInLocation(time.DateOnly, f.since, shop.Location())
	if err != nil {
		return usageError{fmt.Sprintf("import: --since %q: must be a date YYYY-MM-DD", f.since)}
	}
	if since.After(time.Now()) {
		return usageError{fmt.Sprintf("import: --since %s is in the future", f.since)}
	}
	if keep := time.Duration(e.cfg.Retention.EventDays) * 24 * time.Hour; time.Since(since) > keep {
		fmt.Fprintf(m.Stderr, "import: note: --since %s is older than retention.event_days (%d): serve's retention job deletes the older steps again within the hour\n",
			f.since, e.cfg.Retention.EventDays)
	}
	rl := newReloader(e.cfg.Rules.File, e.log, prometheus.NewRegistry())
	if err := rl.load(); err != nil {
		return fmt.Errorf("import: rules.file %s: %w", e.cfg.Rules.File, err)
	}
	now := time.Now
	planner := &process.RulesPlanner{Rules: rl.holder, Log: e.log, Now: now, Options: journey.DefaultOptions}
	runner := newShopReader(e.cfg, e.store, e.log, prometheus.NewRegistry(), now, planner)
	label := "import " + shop.Key
	if f.dryRun {
		label += " (dry run)"
	}
	bar := newProgressBar(m.Stderr, label, "orders", "read")
	p, err := runner.Import(ctx, shop, since, f.dryRun, func(p shopread.Progress) { bar.update(int(p.Orders), int(p.Total)) })
	bar.done()
	switch {
	case errors.Is(err, shopread.ErrNoAPI):
		return fmt.Errorf("import: shop %s (%s): %w", shop.Key, shop.Platform, err)
	case errors.Is(err, store.ErrLeaseHeld):
		return fmt.Errorf("import: shop %s: another import is running (or was killed less than %s ago: its lease expires by then)", shop.Key, runner.Lease)
	case err != nil && ctx.Err() != nil:
		fmt.Fprintf(m.Stdout, "import of %s interrupted after %d orders; run the same command again to resume\n", shop.Key, p.Orders)
		return err
	case err != nil:
		return fmt.Errorf("%w (after %d orders; run the same command again to resume)", err, p.Orders)
	}
	if f.dryRun {
		fmt.Fprintf(m.Stdout, "dry run: %d orders with %d journey steps since %s would be read; nothing was written\n", p.Orders, p.Events, f.since)
		return nil
	}
	c, err := e.store.ShopJourneyCounts(ctx, shop.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "imported %d orders since %s: %d new journey steps; shop %s now has %d customers, %d orders, %d steps\n",
		p.Orders, f.since, p.Events, shop.Key, c.Customers, c.Orders, c.Events)
	return nil
}
