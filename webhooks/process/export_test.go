package process

import "context"

// ProcessBatchCareful processes a batch the careful way only (a savepoint per
// delivery, everything read from the store): the reference the batch run is
// compared with. On MySQL it goes shop by shop, as processUpTo does.
func (p *Processor) ProcessBatchCareful(ctx context.Context) (int, error) {
	if p.Store.Driver() != "mysql" {
		n, _, err := p.processBatch(ctx, p.Store, p.BatchSize, true)
		return n, err
	}
	ids, err := p.Store.ShopIDs(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, id := range ids {
		n, _, err := p.processBatch(ctx, p.Store.ForShop(id), p.BatchSize-total, true)
		total += n
		if err != nil || total >= p.BatchSize {
			return total, err
		}
	}
	return total, nil
}

// SetBacktestPage sets how many customers a backtest reads at once, for
// the test's run; it returns a function that sets it back.
func SetBacktestPage(n int) func() {
	old := backtestPage
	backtestPage = n
	return func() { backtestPage = old }
}
