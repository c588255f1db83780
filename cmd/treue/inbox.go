package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/treue/treue/models/store"
)

// inboxFlags are the flags of `inbox list` and `inbox replay`.
type inboxFlags struct {
	shop, status string
	limit        int
}

func (f *inboxFlags) flagSet(name string) *flag.FlagSet {
	fs := newFlagSet(name)
	fs.StringVar(&f.shop, "shop", "", "shop `KEY` (default: every shop)")
	if name == "inbox list" {
		fs.StringVar(&f.status, "status", "", "pending, done, failed or unparsed (default: every status)")
		fs.IntVar(&f.limit, "limit", 100, "at most this many")
	} else {
		fs.StringVar(&f.status, "status", "", "unparsed or failed (default: both)")
	}
	return fs
}

// inbox runs `treue inbox list|replay`: the deliveries as stored, and a way
// to process again those that could not be parsed (after an upgrade or a
// mapping fix) or failed.
func (m *Main) inbox(ctx context.Context, configPath string, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		return usageError{mustUsage("inbox")}
	}
	inboxUsage := mustUsage("inbox " + args[0])
	var flags inboxFlags
	fs := flags.flagSet("inbox " + args[0])
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{fmt.Sprintf("inbox %s: %v\n%s", args[0], err, inboxUsage)}
	}
	f := store.InboxFilter{Status: flags.status}
	for _, a := range fs.Args() {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 || args[0] == "list" {
			return usageError{fmt.Sprintf("inbox %s: %q is not a delivery id\n%s", args[0], a, inboxUsage)}
		}
		f.IDs = append(f.IDs, id)
	}
	switch {
	case args[0] == "list" && flags.status != "" && !strings.Contains(" pending done failed unparsed ", " "+flags.status+" "):
		return usageError{fmt.Sprintf("inbox list: --status %q: want pending, done, failed or unparsed", flags.status)}
	case args[0] == "replay" && flags.status != "" && flags.status != store.InboxUnparsed && flags.status != store.InboxFailed:
		return usageError{fmt.Sprintf("inbox replay: --status %q: only unparsed and failed deliveries can be replayed", flags.status)}
	case args[0] == "list" && flags.limit <= 0:
		return usageError{"inbox list: --limit must be positive"}
	}
	e, err := m.openReady(ctx, configPath, false)
	if err != nil {
		return err
	}
	defer e.store.Close()
	keys := map[int64]string{}
	if flags.shop != "" {
		shop, err := e.store.ShopByKey(ctx, flags.shop)
		if err != nil {
			return fmt.Errorf("--shop %s: %w", flags.shop, err)
		}
		f.ShopID, keys[shop.ID] = shop.ID, shop.Key
	}
	if args[0] == "replay" {
		n, skipped, err := e.store.ReplayInbox(ctx, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%d %s queued again; a running treue processes them within its poll interval\n", n, plural(n, "delivery", "deliveries"))
		if skipped > 0 {
			fmt.Fprintf(m.Stdout, "%d %s not replayed: the body was purged (retention.raw_payload_days) or erased\n", skipped, plural(skipped, "delivery", "deliveries"))
		}
		return nil
	}
	items, err := e.store.ListInbox(ctx, f, flags.limit)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSHOP\tPLATFORM\tTOPIC\tDELIVERY\tRECEIVED\tSTATUS\tATTEMPTS\tERROR")
	for _, it := range items {
		key, ok := keys[it.ShopID]
		if !ok {
			if shop, err := e.store.ShopByID(ctx, it.ShopID); err == nil {
				key = shop.Key
			} else {
				key = strconv.FormatInt(it.ShopID, 10)
			}
			keys[it.ShopID] = key
		}
		reason := ""
		if it.Error != nil {
			reason = strings.ReplaceAll(*it.Error, "\n", " ")
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", it.ID, key, it.Platform, it.Topic, it.DeliveryID,
			it.ReceivedAt.UTC().Format(time.RFC3339), it.Status, it.Attempts, reason)
	}
	return w.Flush()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
