package webhooks

import "context"

// ProcessBatchCareful processes a batch the careful way only (a savepoint per
// delivery, everything read from the store): the reference the batch run is
// compared with.
func (p *Processor) ProcessBatchCareful(ctx context.Context) (int, error) {
	n, _, err := p.processBatch(ctx, p.BatchSize, true)
	return n, err
}
