package process_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/webhooks/process"
)

// scriptedStock answers ReadStock from a script per ref, one answer per
// call (the last repeats), and counts the calls.
type scriptedStock struct {
	answers map[string][]func() (plugin.StockLevel, error)
	calls   map[string]int
}

func (s *scriptedStock) ReadStock(_ context.Context, _ *models.Shop, ref string) (plugin.StockLevel, error) {
	a := s.answers[ref]
	if len(a) == 0 {
		return plugin.StockLevel{}, fmt.Errorf("unexpected read of %s", ref)
	}
	i := min(s.calls[ref], len(a)-1)
	s.calls[ref]++
	return a[i]()
}

func level(sku string, n int64) func() (plugin.StockLevel, error) {
	return func() (plugin.StockLevel, error) { return plugin.StockLevel{SKU: sku, Stock: n}, nil }
}

func failure(kind plugin.ErrorKind, status int) func() (plugin.StockLevel, error) {
	return func() (plugin.StockLevel, error) {
		return plugin.StockLevel{}, &plugin.Error{Kind: kind, StatusCode: status, Err: errors.New("shop says " + fmt.Sprint(status))}
	}
}

// TestStockLookups: a read level is recorded and its lookup finished; a
// transient failure waits 10 s, then 20 s, and survives a new worker (a
// restart); a permanent one (404) is dropped; a change announced while its
// read ran is read again.
func TestStockLookups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		clock := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		now := func() time.Time { return clock }
		st := storetest.Open(t, driver)
		st.Now = now
		shop := &models.Shop{Key: "sfy", Platform: models.PlatformShopify, Source: "cli", ExternalID: "treue-test.myshopify.com",
			Secrets: models.ShopSecrets{Webhook: []string{"s"}, AccessToken: "shpat_x"}}
		if err := st.SaveShop(ctx, shop); err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(tLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
		proc := &process.Processor{Store: st, Log: log, Options: journey.DefaultOptions, Now: now}
		reader := &scriptedStock{calls: map[string]int{}, answers: map[string][]func() (plugin.StockLevel, error){
			"1": {level("SKU-A", 5)},
			"2": {failure(plugin.Transient, 503), failure(plugin.Transient, 429), level("SKU-B", 2)},
			"3": {failure(plugin.Permanent, 404)},
		}}
		worker := func() *process.StockLookups {
			return &process.StockLookups{Processor: proc, Log: log, Every: time.Second,
				Readers: func(*models.Shop) (plugin.StockReader, bool) { return reader, true }}
		}
		pass := func(want int) {
			t.Helper()
			n, err := worker().Pass(ctx)
			if err != nil || n != want {
				t.Fatalf("Pass at %s = %d, %v; want %d", clock.Format(time.TimeOnly), n, err, want)
			}
		}
		waiting := func() string {
			t.Helper()
			due, err := st.DueStockLookups(ctx, clock.Add(24*time.Hour), 10)
			if err != nil {
				t.Fatal(err)
			}
			out := ""
			for _, l := range due {
				out += fmt.Sprintf("%s:%d@%s ", l.Ref, l.Attempts, l.DueAt.UTC().Format(time.TimeOnly))
			}
			return out
		}
		stock := func(sku string) string {
			q, _, ok, err := st.StockLevel(ctx, shop.ID, sku)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return "none"
			}
			return fmt.Sprint(q)
		}
		for _, ref := range []string{"1", "2", "3"} {
			if err := st.QueueStockLookup(ctx, shop.ID, ref, clock.Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		// A duplicate announcement adds nothing.
		if err := st.QueueStockLookup(ctx, shop.ID, "1", clock.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}

		pass(1)
		if got := waiting(); got != "2:1@09:00:10 " {
			t.Fatalf("waiting %q", got)
		}
		if stock("SKU-A") != "5" || reader.calls["3"] != 1 {
			t.Fatalf("SKU-A %s, item 3 read %d times", stock("SKU-A"), reader.calls["3"])
		}
		pass(0) // nothing due yet
		clock = clock.Add(10 * time.Second)
		pass(0) // the 429: twice as long
		if got := waiting(); got != "2:2@09:00:30 " {
			t.Fatalf("waiting %q", got)
		}
		clock = clock.Add(20 * time.Second)
		pass(1) // a new worker finds it: nothing was kept in memory
		if got := waiting(); got != "" || stock("SKU-B") != "2" || reader.calls["2"] != 3 {
			t.Fatalf("waiting %q, SKU-B %s, %d reads", got, stock("SKU-B"), reader.calls["2"])
		}

		// Item 4 changes again while its first read runs: that read is
		// recorded, and the lookup stays for the change it did not see.
		reader.answers["4"] = []func() (plugin.StockLevel, error){
			func() (plugin.StockLevel, error) {
				if err := st.QueueStockLookup(ctx, shop.ID, "4", clock); err != nil {
					t.Fatal(err)
				}
				return plugin.StockLevel{SKU: "SKU-C", Stock: 1}, nil
			},
			level("SKU-C", 0),
		}
		if err := st.QueueStockLookup(ctx, shop.ID, "4", clock.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		pass(1)
		if got := waiting(); got != "4:0@09:00:30 " || stock("SKU-C") != "1" {
			t.Fatalf("waiting %q, SKU-C %s", got, stock("SKU-C"))
		}
		clock = clock.Add(time.Second) // the next read is the later level
		pass(1)
		if got := waiting(); got != "" || stock("SKU-C") != "0" || reader.calls["4"] != 2 {
			t.Fatalf("waiting %q, SKU-C %s, %d reads", got, stock("SKU-C"), reader.calls["4"])
		}
	})
}
