package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/webhooks/dispatch"
)

// actionAdmin adapts the store to the HTTP layer's ActionAdmin.
type actionAdmin struct{ *store.Store }

func (a actionAdmin) CustomerPublicIDs(ctx context.Context, shopID int64, ids []int64) (map[int64]string, error) {
	return a.ForShop(shopID).CustomerPublicIDs(ctx, ids)
}

func (a actionAdmin) Retry(ctx context.Context, publicID string) (models.Action, error) {
	return dispatch.RetryAction(ctx, a.Store, publicID)
}

func (a actionAdmin) Cancel(ctx context.Context, publicID, reason string) (models.Action, error) {
	return dispatch.CancelAction(ctx, a.Store, publicID, reason)
}

// actionsListFlags are the flags of `actions list`.
type actionsListFlags struct {
	shop, status string
	limit        int
}

func (f *actionsListFlags) flagSet() *flag.FlagSet {
	fs := newFlagSet("actions list")
	fs.StringVar(&f.shop, "shop", "", "shop `KEY` (required)")
	fs.StringVar(&f.status, "status", "dead", "status to list, or \"\" for all")
	fs.IntVar(&f.limit, "limit", 100, "at most this many")
	return fs
}

// actions runs `treue actions list|retry|cancel`.
func (m *Main) actions(ctx context.Context, configPath string, args []string) error {
	if len(args) == 0 {
		return usageError{mustUsage("actions")}
	}
	// Arguments are checked before the database is opened: a mistyped
	// command creates nothing.
	var list actionsListFlags
	switch args[0] {
	case "list":
		if err := list.flagSet().Parse(args[1:]); err != nil || list.shop == "" {
			return usageError{mustUsage("actions list")}
		}
	case "retry", "cancel":
		if len(args) != 2 {
			return usageError{mustUsage("actions " + args[0])}
		}
	default:
		return usageError{fmt.Sprintf("actions: unknown command %q\n%s", args[0], mustUsage("actions"))}
	}
	e, err := m.openReady(ctx, configPath, false)
	if err != nil {
		return err
	}
	defer e.store.Close()
	if args[0] == "list" {
		shop, err := e.store.ShopByKey(ctx, list.shop)
		if err != nil {
			return fmt.Errorf("--shop %s: %w", list.shop, err)
		}
		acts, err := e.store.ListActions(ctx, shop.ID, list.status, list.limit, 0)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tTYPE\tSTATUS\tRULE\tDUE\tATTEMPTS\tREASON")
		for _, a := range acts {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", a.PublicID, a.Type, a.Status, a.RuleID, a.DueAt.Format(time.RFC3339), a.Attempts, a.Reason)
		}
		return w.Flush()
	}
	var a models.Action
	if args[0] == "retry" {
		a, err = dispatch.RetryAction(ctx, e.store, args[1])
	} else {
		a, err = dispatch.CancelAction(ctx, e.store, args[1], "cancelled from the command line")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "action %s is now %s\n", a.PublicID, a.Status)
	return nil
}
