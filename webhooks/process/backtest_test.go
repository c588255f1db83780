package process_test

import (
	"context"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
	"github.com/treue/treue/rules"
	"github.com/treue/treue/webhooks/process"
)

// TestBacktest_WorkersAgree replays the same shop one page at a time and
// with several workers at once: the report is the same, every customer and
// event is counted once, and the progress reaches the total page by page.
func TestBacktest_WorkersAgree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		defer process.SetBacktestPage(7)()
		src, err := os.ReadFile("../../examples/rules.yaml")
		if err != nil {
			t.Fatal(err)
		}
		set, err := rules.Parse("rules.yaml", src)
		if err != nil {
			t.Fatal(err)
		}
		st := storetest.Open(t, driver)
		shop := &models.Shop{Key: "bt", Platform: models.PlatformStandard, Source: "cli", Secrets: models.ShopSecrets{Webhook: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		if err := st.SaveShop(ctx, shop); err != nil {
			t.Fatal(err)
		}
		clock := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		items := journeyDeliveries(shop.ID, 500, 6, clock)
		if _, err := st.InsertInboxBatch(ctx, items); err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		now := func() time.Time { return clock }
		proc := &process.Processor{
			Store:     st,
			Receivers: map[models.Platform]plugin.Receiver{models.PlatformStandard: standard.New(time.Minute)},
			Planner:   &process.RulesPlanner{Rules: rules.NewHolder(set), Log: log, Now: now, Options: journey.DefaultOptions},
			Log:       log, Options: journey.DefaultOptions, BatchSize: 200, MaxAttempts: 3, Now: now,
			Metrics: process.NewMetrics(prometheus.NewRegistry()),
		}
		for {
			n, err := proc.ProcessBatch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		customers, err := st.ShopCustomerIDs(ctx, shop.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(customers) < 30 {
			t.Fatalf("%d customers: too few for several pages", len(customers))
		}

		run := func(workers int) (process.BacktestReport, [][2]int) {
			var mu sync.Mutex
			var progress [][2]int
			bt := &process.Backtest{Live: st, Rules: set, Options: journey.DefaultOptions, Log: log, Workers: workers,
				Progress: func(done, total int) { mu.Lock(); progress = append(progress, [2]int{done, total}); mu.Unlock() }}
			rep, err := bt.Run(ctx, shop, time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			return rep, progress
		}
		one, p1 := run(1)
		four, p4 := run(4)
		if !reflect.DeepEqual(one, four) {
			t.Errorf("one worker:\n%+v\nfour workers:\n%+v", one, four)
		}
		if one.Customers != len(customers) || one.Events != len(items) {
			t.Errorf("replayed %d customers, %d events; the shop has %d, %d", one.Customers, one.Events, len(customers), len(items))
		}
		if len(one.Rules) == 0 {
			t.Error("the replay planned nothing")
		}
		pages := (len(customers) + 6) / 7
		for _, p := range [][][2]int{p1, p4} {
			if len(p) != pages || p[len(p)-1] != [2]int{len(customers), len(customers)} {
				t.Errorf("progress %v, want %d pages up to %d", p, pages, len(customers))
			}
			for i := 1; i < len(p); i++ {
				if p[i][0] <= p[i-1][0] {
					t.Errorf("progress went back: %v", p)
				}
			}
		}
	})
}
