package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/webhooks"
)

// customers runs `treue customers export|erase --shop S --email E|--id ID|--customer-id ID`.
func (m *Main) customers(ctx context.Context, configPath string, args []string) error {
	const usageText = "usage: treue customers export|erase --shop KEY (--email E | --number N | --shop-customer-id ID | --id TREUE_ID) [--yes]"
	if len(args) == 0 || (args[0] != "export" && args[0] != "erase") {
		return usageError{usageText}
	}
	fs := flag.NewFlagSet("customers "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	shopKey := fs.String("shop", "", "shop key")
	email := fs.String("email", "", "the customer's e-mail")
	number := fs.String("number", "", "the customer number")
	shopCustomerID := fs.String("shop-customer-id", "", "the shop's customer id")
	publicID := fs.String("id", "", "Treue's customer id")
	yes := fs.Bool("yes", false, "confirm the erasure")
	if err := fs.Parse(args[1:]); err != nil || *shopKey == "" {
		return usageError{usageText}
	}
	e, err := m.openReady(ctx, configPath, true)
	if err != nil {
		return err
	}
	defer e.store.Close()
	shop, err := e.store.ShopByKey(ctx, *shopKey)
	if err != nil {
		return fmt.Errorf("--shop %s: %w", *shopKey, err)
	}
	var custID int64
	if *publicID != "" {
		p, _, err := e.store.CustomerByPublicID(ctx, shop.ID, *publicID)
		if err != nil {
			return fmt.Errorf("--id %s: %w", *publicID, err)
		}
		custID = p.CustomerID
	} else {
		ref := models.CustomerRef{ID: *shopCustomerID, Number: *number, Email: *email}
		if ref.Empty() {
			return usageError{usageText}
		}
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
	priv := &webhooks.Privacy{Store: e.store, Options: journey.DefaultOptions, Log: e.log, Now: e.store.Now}
	if args[0] == "export" {
		x, err := priv.Export(ctx, custID)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(x.Document(shop.Key))
	}
	if !*yes {
		return usageError{"customers erase removes the customer's personal data for good: add --yes to confirm"}
	}
	er, err := priv.Erase(ctx, shop.ID, custID, "cli")
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "erased: %d events, %d actions (%d pending cancelled); audit record %d\n", er.Events, er.Actions, er.CancelledActions, er.ID)
	return nil
}
