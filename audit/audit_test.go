package audit_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/treue/treue/audit"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store/storetest"
)

// TestLog: entries are written in batches, and a shutdown flushes the rest.
func TestLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		st := storetest.Open(t, driver)
		ctx, cancel := context.WithCancel(context.Background())
		l := &audit.Log{Store: st, Log: slog.New(slog.DiscardHandler), Every: time.Hour, Max: 10}
		done := make(chan struct{})
		go func() { l.Run(ctx); close(done) }()
		for i := 0; i < 25; i++ {
			if err := l.Record(ctx, models.Access{ShopID: 1, TokenID: 1, CustomerID: 7, What: "timeline"}); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		<-done
		// No token row: the join in CustomerAccess finds nothing, so count raw.
		var n int64
		got, err := st.CountAccess(context.Background(), 7)
		if err != nil {
			t.Fatal(err)
		}
		n = got
		if n != 25 {
			t.Fatalf("%d entries written, want 25", n)
		}
	})
}
