package shopread

import (
	"context"
	"errors"
	"time"

	"github.com/treue/treue/models"
)

// Schedule is the reconciliation in serve: every tick it looks at each shop
// whose interval (every) is above zero and that has an API, and runs a pass
// where the last one finished at least that long ago. Every replica runs
// it; the shop's lease lets one pass run at a time and the stored finish
// time makes the others skip, so a shop is read once per interval however
// many replicas there are.
type Schedule struct {
	Runner   *Runner
	Shops    func(ctx context.Context) ([]*models.Shop, error)
	Every    func(shopKey string) time.Duration
	Lookback time.Duration
	// Tick is how often due shops are looked for; 0 means a minute.
	Tick time.Duration
}

// Run reconciles until ctx ends.
func (s *Schedule) Run(ctx context.Context) {
	tick := s.Tick
	if tick <= 0 {
		tick = time.Minute
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		s.pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Schedule) pass(ctx context.Context) {
	shops, err := s.Shops(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.Runner.Log.WarnContext(ctx, "reconcile: listing shops failed", "err", err)
		}
		return
	}
	for _, shop := range shops {
		every := s.Every(shop.Key)
		if every <= 0 || ctx.Err() != nil {
			continue
		}
		if _, ok := s.Runner.Readers(shop); !ok {
			continue
		}
		p, ran, err := s.Runner.Reconcile(ctx, shop, s.Lookback, every)
		switch {
		case err != nil && errors.Is(err, context.Canceled):
			return
		case err != nil:
			s.Runner.Log.WarnContext(ctx, "reconcile pass failed; the next one resumes it", "shop", shop.Key, "err", err)
		case ran:
			s.Runner.Log.InfoContext(ctx, "reconcile pass done", "shop", shop.Key, "orders", p.Orders, "recovered_events", p.Events)
		}
	}
}
