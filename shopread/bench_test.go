package shopread_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/treue/treue/models/store/storetest"
)

// BenchmarkImport imports 10,000 orders of 2,000 customers (a third
// unpaid, a fifth delivered) from the fake Shopify API on loopback into a
// fresh database, with examples/rules.yaml in force, and reports orders
// per second. The README's figure comes from it:
//
//	go test -run '^$' -bench Import -benchtime 3x ./shopread/
func BenchmarkImport(b *testing.B) {
	src, err := os.ReadFile("../examples/rules.yaml")
	if err != nil {
		b.Fatal(err)
	}
	// Holdout membership hangs on random public ids; it does not matter here.
	src = bytes.Replace(src, []byte("holdout_percent: 5 "), []byte("holdout_percent: 0 "), 1)
	const n = 10000
	for _, driver := range storetest.Drivers {
		b.Run(driver, func(b *testing.B) {
			if driver == "mysql" && os.Getenv(storetest.EnvMySQL) == "" {
				b.Skip(storetest.EnvMySQL + " is not set")
			}
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e := setupRules(b, driver, string(src))
				e.proc.Log = slog.New(slog.DiscardHandler)
				e.runner.Log = e.proc.Log
				start := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
				orders := make([]map[string]any, n)
				for k := range orders {
					id := int64(k + 1)
					orders[k] = shopifyOrder(id, id%2000, start.Add(time.Duration(k)*3*time.Hour), k%3 != 0, k%5 == 0)
				}
				e.fake.set(orders)
				b.StartTimer()
				t0 := time.Now()
				p, err := e.runner.Import(context.Background(), e.shop, start, false, nil)
				elapsed += time.Since(t0)
				if err != nil || p.Orders != n {
					b.Fatalf("import: %+v, %v", p, err)
				}
			}
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "orders/s")
		})
	}
}
