package dispatch

import (
	"context"
	"fmt"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// RetryAction puts a dead action back in the queue, due now, with its
// attempts reset. Only dead actions can be retried (models.ErrConflict
// otherwise, which the API answers with 409).
func RetryAction(ctx context.Context, st *store.Store, publicID string) (models.Action, error) {
	a, err := st.ActionByPublicID(ctx, publicID)
	if err != nil {
		return a, err
	}
	ok, err := st.RetryDeadAction(ctx, a.ID)
	if err != nil {
		return a, err
	}
	if !ok {
		return a, fmt.Errorf("action %s is %s; only dead actions can be retried: %w", publicID, a.Status, models.ErrConflict)
	}
	return st.ActionByID(ctx, a.ID)
}

// CancelAction cancels an action that has not been sent: scheduled, retrying
// or dead.
func CancelAction(ctx context.Context, st *store.Store, publicID, reason string) (models.Action, error) {
	a, err := st.ActionByPublicID(ctx, publicID)
	if err != nil {
		return a, err
	}
	ok, err := st.CancelAction(ctx, a.ID, reason)
	if err != nil {
		return a, err
	}
	if !ok {
		return a, fmt.Errorf("action %s is %s; only scheduled, retrying or dead actions can be cancelled: %w", publicID, a.Status, models.ErrConflict)
	}
	return st.ActionByID(ctx, a.ID)
}
