package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/webhooks"
)

// actionAdmin adapts the store to the HTTP layer's ActionAdmin.
type actionAdmin struct{ *store.Store }

func (a actionAdmin) Retry(ctx context.Context, publicID string) (models.Action, error) {
	return webhooks.RetryAction(ctx, a.Store, publicID)
}

func (a actionAdmin) Cancel(ctx context.Context, publicID, reason string) (models.Action, error) {
	return webhooks.CancelAction(ctx, a.Store, publicID, reason)
}

// actions runs `treue actions list|retry|cancel`.
func (m *Main) actions(ctx context.Context, configPath string, args []string) error {
	const usageText = "usage: treue actions list --shop KEY [--status dead] [--limit N] | retry ID | cancel ID"
	if len(args) == 0 {
		return usageError{usageText}
	}
	e, err := m.openReady(ctx, configPath, false)
	if err != nil {
		return err
	}
	defer e.store.Close()
	switch args[0] {
	case "list":
		fs := flag.NewFlagSet("actions list", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		shopKey := fs.String("shop", "", "shop key")
		status := fs.String("status", "dead", "status to list, or \"\" for all")
		limit := fs.Int("limit", 100, "at most this many")
		if err := fs.Parse(args[1:]); err != nil || *shopKey == "" {
			return usageError{usageText}
		}
		shop, err := e.store.ShopByKey(ctx, *shopKey)
		if err != nil {
			return fmt.Errorf("--shop %s: %w", *shopKey, err)
		}
		acts, err := e.store.ListActions(ctx, shop.ID, *status, *limit, 0)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tTYPE\tSTATUS\tRULE\tDUE\tATTEMPTS\tREASON")
		for _, a := range acts {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", a.PublicID, a.Type, a.Status, a.RuleID, a.DueAt.Format(time.RFC3339), a.Attempts, a.Reason)
		}
		return w.Flush()
	case "retry", "cancel":
		if len(args) != 2 {
			return usageError{usageText}
		}
		var a models.Action
		if args[0] == "retry" {
			a, err = webhooks.RetryAction(ctx, e.store, args[1])
		} else {
			a, err = webhooks.CancelAction(ctx, e.store, args[1], "cancelled from the command line")
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "action %s is now %s\n", a.PublicID, a.Status)
		return nil
	}
	return usageError{usageText}
}
