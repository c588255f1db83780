package webhooks

import "context"

// ProcessBatchCareful processes a batch the careful way only (a savepoint per
// delivery, everything read from the store): the reference the batch run is
// compared with.
func (p *Processor) ProcessBatchCareful(ctx context.Context) (int, error) {
	n, _, err := p.processBatch(ctx, p.BatchSize, true)
	return n, err
}

// Misses is how many "no such shop" answers the cache holds.
func (c *ShopCache) Misses() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.misses)
}
