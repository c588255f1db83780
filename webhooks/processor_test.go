package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
	"github.com/treue/treue/rules"
	"github.com/treue/treue/webhooks"
)

// TestProcessor_BatchMatchesCareful processes the same deliveries twice: in
// batches that load their customers' state once (the default), and one
// delivery at a time reading everything from the store. Profiles and actions
// must come out the same, with steps out of order and delivered twice.
func TestProcessor_BatchMatchesCareful(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		src, err := os.ReadFile("../examples/rules.yaml")
		if err != nil {
			t.Fatal(err)
		}
		// Holdout membership hangs on the customers' random public ids.
		src = bytes.Replace(src, []byte("holdout_percent: 5 "), []byte("holdout_percent: 0 "), 1)
		set, err := rules.Parse("rules.yaml", src)
		if err != nil {
			t.Fatal(err)
		}
		clock := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		const lanes = 8
		items := journeyDeliveries(1, 600, lanes, clock)
		rng := rand.New(rand.NewPCG(7, 9))
		for i := 0; i+lanes < len(items); i++ {
			if rng.IntN(4) == 0 { // a customer's step overtakes the one before it
				items[i], items[i+lanes] = items[i+lanes], items[i]
			}
		}
		var dups []*store.InboxItem
		for i, it := range items {
			if rng.IntN(15) == 0 { // the same step again, under a new delivery id
				d := *it
				d.DeliveryID = fmt.Sprintf("dup-%d", i)
				dups = append(dups, &d)
			}
		}
		items = append(items, dups...)

		run := func(careful bool) map[string]string {
			st := storetest.Open(t, driver)
			var tick atomic.Int64 // rows' updated_at must change for MySQL to count them
			st.Now = func() time.Time { return clock.Add(time.Duration(tick.Add(1)) * time.Microsecond) }
			shop := &models.Shop{Key: "bench", Platform: models.PlatformStandard, Source: "cli", Secrets: models.ShopSecrets{Webhook: []string{"x"}}}
			if err := st.SaveShop(ctx, shop); err != nil {
				t.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(tLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
			now := func() time.Time { return clock }
			proc := &webhooks.Processor{
				Store:     st,
				Receivers: map[models.Platform]plugin.Receiver{models.PlatformStandard: standard.New(time.Minute)},
				Planner:   &webhooks.RulesPlanner{Rules: rules.NewHolder(set), Log: log, Now: now, Options: journey.DefaultOptions},
				Log:       log, Options: journey.DefaultOptions, BatchSize: 200, MaxAttempts: 3, Now: now,
			}
			for _, it := range items {
				c := *it
				c.ShopID = shop.ID
				if _, err := st.InsertInboxBatch(ctx, []*store.InboxItem{&c}); err != nil {
					t.Fatal(err)
				}
			}
			for {
				process := proc.ProcessBatch
				if careful {
					process = proc.ProcessBatchCareful
				}
				n, err := process(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
			if pending, _, err := st.InboxBacklog(ctx); err != nil || pending != 0 {
				t.Fatalf("backlog %d, %v", pending, err)
			}
			// Everything a customer has, by the shop's customer id.
			out := map[string]string{}
			for c := 0; ; c++ {
				prof, err := st.CustomerByIdentity(ctx, shop.ID, store.IdentityID, fmt.Sprintf("c-%d", c))
				if err != nil {
					break
				}
				acts, err := st.CustomerActions(ctx, prof.CustomerID)
				if err != nil {
					t.Fatal(err)
				}
				var lines []string
				for _, a := range acts {
					lines = append(lines, fmt.Sprintf("%s %s %s %s %s %s %v", a.RuleID, a.Type, a.Status, a.OrderRef, a.SKU, a.DueAt.Format(time.RFC3339), a.Reason))
				}
				slices.Sort(lines)
				balance, err := st.PointsBalance(ctx, prof.CustomerID)
				if err != nil {
					t.Fatal(err)
				}
				prof.CustomerID, prof.PublicID = 0, ""
				p, _ := json.Marshal(prof)
				out[fmt.Sprintf("c-%d", c)] = fmt.Sprintf("profile %s\npoints %d\n%s", p, balance, slices.Concat(lines))
			}
			return out
		}
		batch, careful := run(false), run(true)
		if len(batch) < 15 || len(batch) != len(careful) {
			t.Fatalf("%d customers in batches, %d careful", len(batch), len(careful))
		}
		for c, want := range careful {
			if got := batch[c]; got != want {
				t.Errorf("customer %s:\nbatch:   %s\ncareful: %s", c, got, want)
			}
		}
		t.Logf("%d customers compared; c-5:\n%s", len(batch), batch["c-5"])
	})
}

type tLog struct{ t *testing.T }

func (l tLog) Write(b []byte) (int, error) {
	l.t.Log(string(b))
	return len(b), nil
}
