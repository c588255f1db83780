// Package audit records who read which customer's data, off the request path.
package audit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/treue/treue/models"
)

// Store writes entries (models.Access), several in one transaction.
type Store interface {
	LogAccessBatch(ctx context.Context, entries []models.Access) error
}

// Log buffers access-log entries and writes them in batches, so a support
// read costs no commit of its own. Entries wait at most Every; a crash loses
// at most that much of the log. When the buffer is full, Record writes
// synchronously rather than drop an entry.
type Log struct {
	Store Store
	Log   *slog.Logger
	Every time.Duration
	Max   int

	mu      sync.Mutex
	pending []models.Access
	kick    chan struct{}
	once    sync.Once
}

func (l *Log) init() {
	l.once.Do(func() {
		l.kick = make(chan struct{}, 1)
		if l.Every <= 0 {
			l.Every = 100 * time.Millisecond
		}
		if l.Max <= 0 {
			l.Max = 1000
		}
	})
}

// Record queues an entry.
func (l *Log) Record(ctx context.Context, e models.Access) error {
	l.init()
	l.mu.Lock()
	if len(l.pending) >= l.Max {
		l.mu.Unlock()
		return l.Store.LogAccessBatch(ctx, []models.Access{e})
	}
	l.pending = append(l.pending, e)
	full := len(l.pending) >= l.Max/2
	l.mu.Unlock()
	if full {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Run flushes until ctx ends, then flushes what is left.
func (l *Log) Run(ctx context.Context) {
	l.init()
	t := time.NewTicker(l.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			l.Flush(context.WithoutCancel(ctx))
			return
		case <-t.C:
		case <-l.kick:
		}
		// Not ctx itself: a write cancelled halfway may have committed, and
		// would then be written twice by the retry.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		l.Flush(wctx)
		cancel()
	}
}

// Flush writes the buffered entries now.
func (l *Log) Flush(ctx context.Context) {
	l.init()
	l.mu.Lock()
	batch := l.pending
	l.pending = nil
	l.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := l.Store.LogAccessBatch(ctx, batch); err != nil {
		l.Log.ErrorContext(ctx, "writing the access log failed; keeping the entries for the next flush", "entries", len(batch), "err", err)
		l.mu.Lock()
		l.pending = append(batch, l.pending...)
		l.mu.Unlock()
	}
}
