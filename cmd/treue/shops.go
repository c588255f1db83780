package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/treue/treue/config"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin/shopware"
)

func (m *Main) shops(ctx context.Context, configPath string, args []string) error {
	if len(args) == 0 {
		return usageError{mustUsage("shops")}
	}
	// Arguments are checked before the database is opened: a mistyped
	// command creates nothing.
	var (
		add  config.Shop
		yes  bool
		fs   *flag.FlagSet
		want = 1 // positional arguments after the subcommand's flags
	)
	switch args[0] {
	case "list":
		fs, want = newFlagSet("shops list"), 0
	case "add":
		fs, want = shopsAddFlags(&add), 0
	case "remove":
		fs = shopsRemoveFlags(&yes)
	case "unregister":
		fs = newFlagSet("shops unregister")
	default:
		return usageError{fmt.Sprintf("shops: unknown command %q\n%s", args[0], mustUsage("shops"))}
	}
	rest := args[1:]
	if args[0] != "add" { // only bool flags: "remove KEY --yes" may put the key first
		rest = reorder(rest)
	}
	if err := fs.Parse(rest); err != nil || fs.NArg() != want {
		msg := mustUsage("shops " + args[0])
		if err != nil {
			msg = err.Error() + "\n" + msg
		}
		return usageError{msg}
	}
	if args[0] == "add" {
		// The dispatch settings decide which shop URLs the dispatcher may
		// call; reading them opens no database.
		cfg, err := config.Load(configPath, m.Getenv)
		if err != nil {
			return err
		}
		if err := m.resolveShopEnv(&add, cfg.Dispatch); err != nil {
			return err
		}
	}
	if args[0] == "remove" && !yes {
		return usageError{"shops remove deletes every event and customer of the shop: add --yes to confirm"}
	}
	e, err := m.openReady(ctx, configPath, true)
	if err != nil {
		return err
	}
	defer e.store.Close()
	switch args[0] {
	case "list":
		shops, err := e.store.ListShops(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "KEY\tPLATFORM\tNAME\tTIMEZONE\tCURRENCY\tEXTERNAL ID\tSOURCE")
		for _, s := range shops {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Key, s.Platform, s.Name, s.Timezone, s.Currency, s.ExternalID, s.Source)
		}
		return w.Flush()
	case "add":
		return m.shopsAdd(ctx, e, add)
	case "remove":
		if err := e.store.DeleteShop(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "removed shop %s\n", fs.Arg(0))
		return nil
	default: // unregister
		// What app.deleted does, for a removal Treue missed (it was down):
		// Shopware refuses nothing, but Treue would refuse the reinstall.
		shop, err := e.store.ShopByKey(ctx, fs.Arg(0))
		if err != nil {
			return fmt.Errorf("shops unregister %s: %w", fs.Arg(0), err)
		}
		if shop.Platform != models.PlatformShopware {
			return fmt.Errorf("shops unregister %s: a %s shop; only Shopware shops register through the app", shop.Key, shop.Platform)
		}
		if err := (&shopware.Registrar{Store: e.store}).Uninstalled(ctx, shop); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "forgot the app registration of shop %s (its data stays): installing the app again registers it afresh\n", shop.Key)
		return nil
	}
}

// shopsRemoveFlags are the flags of `shops remove`.
func shopsRemoveFlags(yes *bool) *flag.FlagSet {
	fs := newFlagSet("shops remove")
	fs.BoolVar(yes, "yes", false, "confirm deleting the shop and all its data")
	return fs
}

// shopsAddFlags are the flags of `shops add`, filling c.
func shopsAddFlags(c *config.Shop) *flag.FlagSet {
	fs := newFlagSet("shops add")
	fs.StringVar(&c.Key, "key", "", "shop `KEY` (URL-safe, unique)")
	fs.StringVar(&c.Platform, "platform", "", "`PLATFORM`: shopware, shopify, adobe or standard")
	fs.StringVar(&c.Name, "name", "", "display name")
	fs.StringVar(&c.Timezone, "timezone", "UTC", "IANA time zone")
	fs.StringVar(&c.Currency, "currency", "EUR", "ISO 4217 currency")
	fs.StringVar(&c.Secret, "secret", "", "webhook secret (prefer --secret-env)")
	fs.StringVar(&c.SecretEnv, "secret-env", "", "environment variable holding the webhook secret")
	fs.StringVar(&c.Domain, "domain", "", "Shopify shop domain")
	fs.StringVar(&c.ClientID, "client-id", "", "Adobe I/O client id")
	fs.StringVar(&c.ShopwareID, "shopware-id", "", "Shopware shopId")
	fs.StringVar(&c.URL, "url", "", "shop base URL (the connector's API base)")
	fs.StringVar(&c.Connector, "connector", "", "shopware, magento, shopify or notify (default: by platform)")
	fs.StringVar(&c.APIKeyEnv, "api-key-env", "", "environment variable holding the API key (Magento consumer key)")
	fs.StringVar(&c.APISecretEnv, "api-secret-env", "", "environment variable holding the API secret")
	fs.StringVar(&c.AccessTokenEnv, "access-token-env", "", "environment variable holding the access token (Magento, Shopify)")
	fs.StringVar(&c.TokenSecretEnv, "token-secret-env", "", "environment variable holding the token secret (Magento)")
	fs.StringVar(&c.NotifyURL, "notify-url", "", "URL for signed action webhooks (notify connector)")
	return fs
}

// resolveShopEnv reads the secrets that `shops add` names by environment
// variable and validates the shop as the config file would.
func (m *Main) resolveShopEnv(c *config.Shop, dispatch config.Dispatch) error {
	for _, f := range []struct {
		flag      string
		env, dest *string
	}{{"secret-env", &c.SecretEnv, &c.Secret}, {"api-key-env", &c.APIKeyEnv, &c.APIKey}, {"api-secret-env", &c.APISecretEnv, &c.APISecret},
		{"access-token-env", &c.AccessTokenEnv, &c.AccessToken}, {"token-secret-env", &c.TokenSecretEnv, &c.TokenSecret}} {
		if *f.env == "" {
			continue
		}
		*f.dest = m.Getenv(*f.env)
		if *f.dest == "" {
			return fmt.Errorf("--%s: environment variable %s is empty", f.flag, *f.env)
		}
		// The variable's name stays in c: validation names --secret-env,
		// not --secret, for a value that came from it.
	}
	return validateShop(config.Config{Shops: []config.Shop{*c}, Dispatch: dispatch})
}

func (m *Main) shopsAdd(ctx context.Context, e *env, c config.Shop) error {
	sh := shopFromConfig(c)
	sh.Source = "cli"
	have, err := e.store.ShopByKey(ctx, c.Key)
	switch {
	case errors.Is(err, models.ErrNotFound):
	case err != nil:
		return err
	default:
		sh.ID, sh.CreatedAt = have.ID, have.CreatedAt
		webhook := sh.Secrets.Webhook
		if len(webhook) == 0 {
			webhook = have.Secrets.Webhook
		}
		sh.Secrets = mergeSecrets(have.Secrets, sh.Secrets)
		sh.Secrets.Webhook = webhook
	}
	if err := e.store.SaveShop(ctx, sh); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "saved shop %s (%s)\n", sh.Key, sh.Platform)
	return nil
}

// validateShop reuses the config file's rules, renaming shops[0].x_y to
// --x-y. Only the key is renamed: a message carries environment variable
// names (ACME_SECRET) and "whsec_", whose underscores must stay.
func validateShop(cfg config.Config) error {
	var errs config.Errors
	if err := cfg.ValidateShops(); err != nil && errors.As(err, &errs) {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
			var ke *config.KeyError
			if errors.As(e, &ke) {
				msgs[i] = "--" + strings.ReplaceAll(strings.TrimPrefix(ke.Key, "shops[0]."), "_", "-") + ": " + ke.Msg
			}
		}
		return usageError{strings.Join(msgs, "\n")}
	}
	return nil
}

// reorder moves flags before positional arguments, so "remove KEY --yes" works.
func reorder(args []string) []string {
	var flags, pos []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
		} else {
			pos = append(pos, a)
		}
	}
	return append(flags, pos...)
}
