package process

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/plugin"
)

// History says how events read from a shop's API plan actions. An event
// that happened before PlanFrom is history: it builds the profile, the
// stage and the consumption cycles and plans only actions due from now on,
// so that a delivery of 2019 sends no review request today; with Points
// the points actions it would have booked in the past are booked still (as
// suppressed actions: recorded, never sent). Events from PlanFrom on plan
// as their webhooks would.
type History struct {
	PlanFrom time.Time
	Points   bool
}

// APIPage is one page of orders read from a shop's API, to be recorded.
type APIPage struct {
	Shop    *models.Shop
	Orders  []plugin.APIOrder
	History History
	// Commit runs in the recording transaction once the events are in, with
	// how many of them were new (no webhook had brought them), so that a
	// reader's cursor moves only with what it read.
	Commit func(ctx context.Context, tx *store.Store, inserted int) error
}

// APIResult is what recording a page did.
type APIResult struct {
	// Inserted counts new journey steps; the others were known already.
	Inserted int
	// Skipped counts orders that name no customer Treue could resolve.
	Skipped int
}

// RecordAPI records the events of orders read from a shop's API through the
// same path as webhooks (resolve and lock the customers, append the steps,
// rebuild the profiles, plan), in one transaction with page.Commit. A step
// is keyed as its webhook's would be, so a step already delivered changes
// nothing, and one delivered later changes nothing either.
func (p *Processor) RecordAPI(ctx context.Context, page APIPage) (APIResult, error) {
	now := p.Now()
	var ws []work
	for _, o := range page.Orders {
		if len(o.Events) == 0 {
			continue
		}
		it := &models.Delivery{ShopID: page.Shop.ID, Platform: string(page.Shop.Platform),
			DeliveryID: store.Truncate("api:"+o.ID, 191), ReceivedAt: now}
		ws = append(ws, work{it: it, shop: page.Shop, events: o.Events, history: page.History, api: true,
			key: strconv.FormatInt(page.Shop.ID, 10) + "|" + lockKey(o.Events[0])})
	}
	slices.SortStableFunc(ws, func(a, b work) int { return strings.Compare(a.key, b.key) })
	var res APIResult
	careful := false
	var err error
	for try := 0; try < 4; try++ {
		res, err = p.recordAPI(ctx, page.Shop.ID, ws, page.Commit, careful)
		if errors.Is(err, errCareful) && !careful {
			careful = true
			res, err = p.recordAPI(ctx, page.Shop.ID, ws, page.Commit, true)
		}
		if !errors.Is(err, store.ErrDeadlock) {
			break
		}
	}
	return res, err
}

func (p *Processor) recordAPI(ctx context.Context, shopID int64, ws []work, commit func(context.Context, *store.Store, int) error, careful bool) (APIResult, error) {
	var res APIResult
	// A page is one shop's. On MySQL its statements name the shop, as the
	// processor's do (deploy/vitess); SQLite, whose planner would then read
	// the shop's every event through a shop index, stays unscoped.
	st := p.Store
	if st.Driver() == "mysql" {
		st = st.ForShop(shopID)
	}
	ctx, noted := withVerdicts(ctx)
	var flushed *batchJournal
	err := st.InTx(ctx, func(tx *store.Store) error {
		res, flushed = APIResult{}, nil
		rewind(ctx, 0, 0)
		for i := range ws {
			ws[i].inserted, ws[i].err, ws[i].customers = 0, nil, nil
		}
		if err := p.lockBudgets(ctx, tx, ws); err != nil {
			return err
		}
		var j *batchJournal
		if !careful {
			var err error
			if j, err = p.load(ctx, tx, ws); err != nil {
				return err
			}
		}
		for i := range ws {
			w := &ws[i]
			err := w.err
			switch {
			case err != nil:
			case careful:
				err = p.applyItem(ctx, tx, w, "o"+strconv.Itoa(i))
			default:
				err = p.applyLoaded(ctx, j, w)
			}
			if errors.Is(err, errCareful) {
				return err
			}
			if errors.Is(err, errOrderNotKnown) {
				// A guest order without an e-mail: nothing names its customer.
				p.Log.WarnContext(ctx, "order read from the shop's API names no customer", "shop", w.shop.Key, "delivery_id", w.it.DeliveryID)
				res.Skipped++
				continue
			}
			if err != nil {
				return err
			}
		}
		if j != nil {
			if err := j.flush(ctx); err != nil {
				return carefulUnless(err)
			}
			flushed = j
		}
		for i := range ws {
			res.Inserted += ws[i].inserted
		}
		if commit != nil {
			return commit(ctx, tx, res.Inserted)
		}
		return nil
	})
	if err == nil {
		flushed.remember(p.Journeys, p.Now())
		p.Metrics.count(noted)
	}
	return res, err
}
