package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/support"
	"github.com/treue/treue/webhooks/privacy"
)

// customerFlags are the flags of `customers export` and `customers erase`.
type customerFlags struct {
	shop, email, number, shopCustomerID, publicID string
	yes                                           bool
}

func (f *customerFlags) flagSet(name string) *flag.FlagSet {
	fs := newFlagSet(name)
	fs.StringVar(&f.shop, "shop", "", "shop `KEY` (required)")
	fs.StringVar(&f.email, "email", "", "the customer's `E-MAIL`")
	fs.StringVar(&f.number, "number", "", "the customer number")
	fs.StringVar(&f.shopCustomerID, "shop-customer-id", "", "the shop's customer id")
	fs.StringVar(&f.publicID, "id", "", "Treue's customer id")
	if name == "customers erase" {
		fs.BoolVar(&f.yes, "yes", false, "confirm the erasure")
	}
	return fs
}

// customers runs `treue customers export|erase --shop S --email E|--id ID|--customer-id ID`.
func (m *Main) customers(ctx context.Context, configPath string, args []string) error {
	if len(args) == 0 || (args[0] != "export" && args[0] != "erase") {
		return usageError{mustUsage("customers")}
	}
	usageText := mustUsage("customers " + args[0])
	var f customerFlags
	if err := f.flagSet("customers " + args[0]).Parse(args[1:]); err != nil || f.shop == "" {
		return usageError{usageText}
	}
	ref := models.CustomerRef{ID: f.shopCustomerID, Number: f.number, Email: f.email}
	if f.publicID == "" && ref.Empty() {
		return usageError{usageText}
	}
	if args[0] == "erase" && !f.yes {
		return usageError{"customers erase removes the customer's personal data for good: add --yes to confirm"}
	}
	e, err := m.openReady(ctx, configPath, true)
	if err != nil {
		return err
	}
	defer e.store.Close()
	shop, err := e.store.ShopByKey(ctx, f.shop)
	if err != nil {
		return fmt.Errorf("--shop %s: %w", f.shop, err)
	}
	var custID int64
	if f.publicID != "" {
		p, _, err := e.store.CustomerByPublicID(ctx, shop.ID, f.publicID)
		if err != nil {
			return fmt.Errorf("--id %s: %w", f.publicID, err)
		}
		custID = p.CustomerID
	} else {
		match, err := e.store.FindCustomer(ctx, shop.ID, ref)
		if err != nil {
			return err
		}
		if match.CustomerID == 0 {
			if match.Refused != "" {
				return fmt.Errorf("no such customer in shop %s (%s): %w", shop.Key, match.Refused, models.ErrNotFound)
			}
			return fmt.Errorf("no such customer in shop %s: %w", shop.Key, models.ErrNotFound)
		}
		custID = match.CustomerID
		e.log.InfoContext(ctx, "customer found", "shop", shop.Key, "command", "customers "+args[0], "matched_by", match.By)
	}
	if args[0] == "export" {
		// The document the API's export answers; the CLI reads with no
		// token, so no access is logged.
		rd := &support.Service{Store: support.Reads(e.store)}
		x, err := rd.Export(ctx, shop, custID)
		if err != nil {
			return err
		}
		return writeJSON(m.Stdout, x)
	}
	priv := &privacy.Service{Store: e.store, Options: journey.DefaultOptions, Log: e.log, Now: e.store.Now}
	er, err := priv.Erase(ctx, shop.ID, custID, "cli")
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "erased: %d events, %d actions (%d pending cancelled); audit record %d\n", er.Events, er.Actions, er.CancelledActions, er.ID)
	return nil
}
