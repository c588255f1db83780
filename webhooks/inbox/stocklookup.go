package inbox

import (
	"context"
	"fmt"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/plugin"
)

// StockLookupQueue stores a stock change whose level is read from the
// shop's API later, by a worker of serve (process.StockLookups).
type StockLookupQueue interface {
	QueueStockLookup(ctx context.Context, shopID int64, ref string, at time.Time) error
}

// queueStockLookups stores a delivery's stock lookups before it is
// acknowledged, so a restart loses none. The delivery itself is not kept in
// the inbox: it holds nothing but the ids, and a lookup already waiting for
// the same product absorbs it (a duplicate changes nothing).
func (in *Intake) queueStockLookups(ctx context.Context, shop *models.Shop, parsed plugin.Parsed, res Result) (Result, error) {
	for _, l := range parsed.StockLookups {
		if err := in.StockLookups.QueueStockLookup(ctx, shop.ID, store.Truncate(l.Ref, 191), l.At); err != nil {
			return res, fmt.Errorf("webhooks: store stock lookup: %w", err)
		}
	}
	res.Outcome = Stored
	return res, nil
}
