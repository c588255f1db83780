package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/treue/treue/config"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/security"
)

// env is the config and the services every command shares.
type env struct {
	cfg   config.Config
	log   *slog.Logger
	store *store.Store
}

func (m *Main) load(path string) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(path, m.Getenv)
	if err != nil {
		return cfg, nil, err
	}
	if m.Logger != nil {
		return cfg, m.Logger, nil
	}
	// Log keys: a shop is "shop" with its key (the string in URLs, the
	// config and the CLI), or "shop_id" where only the numeric id is at
	// hand; no other key names a shop (TestLogKeysForAShop holds every log
	// call to it). Secrets, token values and e-mail addresses are never
	// logged: an API token is named by its name.
	level, _ := config.ParseLevel(cfg.Log.Level)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(m.Stderr, opts)
	if cfg.Log.Format == "text" {
		h = slog.NewTextHandler(m.Stderr, opts)
	}
	return cfg, slog.New(h), nil
}

// open loads config, the secret key and the database. requireKey is false for
// commands that never touch secrets (migrate).
func (m *Main) open(ctx context.Context, path string, requireKey bool) (*env, error) {
	cfg, log, err := m.load(path)
	if err != nil {
		return nil, err
	}
	sealer, err := m.sealer(ctx, cfg, log)
	if err != nil && requireKey {
		return nil, err
	}
	var sl store.Sealer = noKey{}
	if sealer != nil {
		sl = sealer
	}
	st, err := store.Open(ctx, store.Config{
		Driver: cfg.Database.Driver, DSN: cfg.Database.DSN, MaxOpenConns: cfg.Database.MaxOpenConns,
		MaxIdleConns: cfg.Database.MaxIdleConns, ConnMaxLifetime: cfg.Database.ConnMaxLifetime, SlowQuery: cfg.Database.SlowQuery,
		Statements: m.Statements,
	}, sl, log)
	if err != nil {
		return nil, err
	}
	return &env{cfg: cfg, log: log, store: st}, nil
}

// sealer builds the key that encrypts shop secrets. On SQLite a key file is
// created beside the database so the quickstart needs no setup; on MySQL the
// key must be given, because replicas must share it.
func (m *Main) sealer(ctx context.Context, cfg config.Config, log *slog.Logger) (*security.Sealer, error) {
	key := cfg.Security.SecretKey
	if key == "" {
		file := cfg.Security.SecretKeyFile
		if file == "" && cfg.Database.Driver == "sqlite" {
			file = filepath.Join(filepath.Dir(sqlitePath(cfg.Database.DSN)), "treue.key")
		}
		if file == "" {
			return nil, errors.New("security.secret_key (env TREUE_SECURITY_SECRET_KEY) or security.secret_key_file is required with MySQL: it encrypts shop secrets at rest; generate one with `openssl rand -hex 32`")
		}
		var created bool
		var err error
		if cfg.Security.SecretKeyFile != "" {
			b, rerr := os.ReadFile(file)
			if rerr != nil {
				return nil, fmt.Errorf("security.secret_key_file: %w", rerr)
			}
			key = strings.TrimSpace(string(b))
		} else {
			if err := keyFileLost(ctx, cfg, file, log); err != nil {
				return nil, err
			}
			if key, created, err = security.LoadOrCreateKeyFile(file); err != nil {
				return nil, err
			}
		}
		if created {
			log.Info("created the key that decrypts the shop secrets in the database: back it up with the database; without it no shop secret can be read",
				"file", absPath(file))
		}
	}
	s, err := security.NewSealer(key)
	if err != nil {
		return nil, fmt.Errorf("security.secret_key: %w", err)
	}
	return s, nil
}

// keyFileLost refuses to create a key file when the database already holds
// secrets sealed with one: a new key cannot open them, so every shop would
// stop verifying its webhooks, and the loss would only show later, as 401s
// and failed connector calls.
func keyFileLost(ctx context.Context, cfg config.Config, file string, log *slog.Logger) error {
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		return nil // there (or unreadable, which LoadOrCreateKeyFile reports)
	}
	db := sqlitePath(cfg.Database.DSN)
	if _, err := os.Stat(db); err != nil {
		return nil // no database yet: a new key is what it needs
	}
	st, err := store.Open(ctx, store.Config{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN}, noKey{}, log)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.SealedShops(ctx)
	if err != nil || n == 0 {
		return err
	}
	return fmt.Errorf("security: the key file %s is missing, but %s holds the secrets of %d %s, sealed with it: "+
		"restore the key file from your backup (or set security.secret_key_file to it). A new key could not decrypt them, so none was created",
		absPath(file), absPath(db), n, plural(n, "shop", "shops"))
}

// absPath makes a path in a message findable whatever the reader's working
// directory is.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func sqlitePath(dsn string) string {
	p, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	return p
}

// noKey refuses to touch secrets; migrate runs without a key.
type noKey struct{}

func (noKey) Seal([]byte) (string, error) { return "", errors.New("no secret key configured") }
func (noKey) Open(string) ([]byte, error) { return nil, errors.New("no secret key configured") }

// shopFromConfig turns a declared shop into the stored form.
func shopFromConfig(c config.Shop) *models.Shop {
	sh := &models.Shop{
		Key: c.Key, Platform: models.Platform(c.Platform), Name: c.Name, Timezone: c.Timezone,
		Currency: c.Currency, URL: c.URL, Source: "config", Connector: c.Connector,
	}
	sh.Secrets.APIKey, sh.Secrets.APISecret = c.APIKey, c.APISecret
	sh.Secrets.AccessToken, sh.Secrets.TokenSecret = c.AccessToken, c.TokenSecret
	sh.Secrets.NotifyURL, sh.Secrets.NotifySecret = c.NotifyURL, c.NotifySecret
	sh.Secrets.Standard = c.StandardSecret
	if sh.Name == "" {
		sh.Name = c.Key
	}
	if c.Secret != "" {
		sh.Secrets.Webhook = append(sh.Secrets.Webhook, c.Secret)
	}
	sh.Secrets.Webhook = append(sh.Secrets.Webhook, c.Secrets...)
	switch sh.Platform {
	case models.PlatformShopify:
		sh.ExternalID = strings.ToLower(c.Domain)
	case models.PlatformAdobe:
		sh.ExternalID = c.ClientID
	case models.PlatformShopware:
		sh.ExternalID = c.ShopwareID
	}
	return sh
}

// syncShops writes the shops declared in the config into the database. It
// never deletes: removing a shop deletes its data, so that takes `shops remove`.
func syncShops(ctx context.Context, st *store.Store, shops []config.Shop, log *slog.Logger) error {
	for _, c := range shops {
		want := shopFromConfig(c)
		have, err := st.ShopByKey(ctx, c.Key)
		switch {
		case errors.Is(err, models.ErrNotFound):
		case err != nil:
			return err
		default:
			want.ID, want.CreatedAt = have.ID, have.CreatedAt
			want.Secrets = mergeSecrets(have.Secrets, want.Secrets)
			if want.URL == "" {
				want.URL = have.URL
			}
		}
		if err := st.SaveShop(ctx, want); err != nil {
			return fmt.Errorf("shops[%s]: %w", c.Key, err)
		}
		log.Info("shop from config", "shop", c.Key, "platform", c.Platform)
	}
	return nil
}

// readySchema brings the schema up to date where Treue may do so itself
// (SQLite, or database.auto_migrate), and otherwise refuses a schema that is
// behind, naming the command to run.
func (e *env) readySchema(ctx context.Context) error {
	if e.cfg.Database.Driver == "sqlite" || e.cfg.Database.AutoMigrate {
		v, err := e.store.Migrate(ctx)
		if err != nil {
			return err
		}
		e.log.Debug("database schema current", "version", v, "driver", e.cfg.Database.Driver)
		return nil
	}
	return e.store.CheckSchema(ctx)
}

// mergeSecrets keeps what a registration stored (Shopware API credentials)
// unless the config sets it; the config always owns the webhook secrets.
func mergeSecrets(have, want models.ShopSecrets) models.ShopSecrets {
	out := have
	out.Webhook = want.Webhook
	for _, f := range []struct{ dst, src *string }{
		{&out.APIKey, &want.APIKey}, {&out.APISecret, &want.APISecret}, {&out.AccessToken, &want.AccessToken},
		{&out.TokenSecret, &want.TokenSecret}, {&out.NotifyURL, &want.NotifyURL}, {&out.NotifySecret, &want.NotifySecret},
		{&out.Standard, &want.Standard},
	} {
		if *f.src != "" {
			*f.dst = *f.src
		}
	}
	return out
}

// openReady opens like open and brings the schema up to date where Treue
// may (readySchema); the caller closes e.store.
func (m *Main) openReady(ctx context.Context, path string, requireKey bool) (*env, error) {
	e, err := m.open(ctx, path, requireKey)
	if err != nil {
		return nil, err
	}
	if err := e.readySchema(ctx); err != nil {
		e.store.Close()
		return nil, err
	}
	return e, nil
}
