// Package config loads Treue's settings from an optional YAML file and TREUE_*
// environment variables, strictly: unknown keys, wrong types and impossible
// values stop the program with a message naming the key.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin/standard"
)

// Config is every setting of Treue.
type Config struct {
	HTTP      HTTP      `mapstructure:"http"`
	Database  Database  `mapstructure:"database"`
	Log       Log       `mapstructure:"log"`
	Security  Security  `mapstructure:"security"`
	Webhooks  Webhooks  `mapstructure:"webhooks"`
	Shopware  Shopware  `mapstructure:"shopware"`
	Rules     Rules     `mapstructure:"rules"`
	Shops     []Shop    `mapstructure:"shops"`
	Retention Retention `mapstructure:"retention"`
	Dispatch  Dispatch  `mapstructure:"dispatch"`
	Reports   Reports   `mapstructure:"reports"`
	Import    Import    `mapstructure:"import"`
	Reconcile Reconcile `mapstructure:"reconcile"`
	Stock     Stock     `mapstructure:"stock"`
	Carts     Carts     `mapstructure:"carts"`
}

// Stock configures back-in-stock notices.
type Stock struct {
	// NotifyPerHour is how many subscribers of one SKU a restock notifies
	// per hour, oldest subscription first.
	NotifyPerHour int `mapstructure:"notify_per_hour"`
	// PageSize bounds the notices one transaction records.
	PageSize int `mapstructure:"page_size"`
}

// Carts configures the derived cart.abandoned event.
type Carts struct {
	// AbandonAfter is how long after its last update a cart that no order
	// followed counts as abandoned; 0 turns the derivation off.
	AbandonAfter time.Duration `mapstructure:"abandon_after"`
	// PassInterval is how often serve looks for carts that became abandoned.
	PassInterval time.Duration `mapstructure:"pass_interval"`
	// Lookback bounds how long ago an abandonment may have happened to
	// still be recorded (after an outage, or when the feature is turned on).
	Lookback time.Duration `mapstructure:"lookback"`
}

// Import configures treue import, the history read from a shop's API.
type Import struct {
	// Points books the points the rules award for imported orders (as
	// suppressed actions: the balance counts them, nothing is sent).
	Points bool `mapstructure:"points"`
	// PageSize is how many orders one API request asks for.
	PageSize int `mapstructure:"page_size"`
}

// Reconcile configures the periodic read of recent orders from the shops'
// APIs that finds the steps whose webhooks were lost.
type Reconcile struct {
	// Interval between passes per shop; 0 (the default) switches it off.
	// shops[].reconcile_interval overrides it for one shop.
	Interval time.Duration `mapstructure:"interval"`
	// Lookback is how far back a pass reads orders changed.
	Lookback time.Duration `mapstructure:"lookback"`
	// Window: events read from the API that are younger plan actions as
	// their webhooks would; older ones are history and plan only what is
	// due from now on.
	Window time.Duration `mapstructure:"window"`
}

// Reports tunes the outcome reports.
type Reports struct {
	// AttributionDays overrides, per action type, how many days after an
	// action an outcome counts for it.
	AttributionDays map[string]float64 `mapstructure:"attribution_days"`
	// MinSample is how many customers each group needs before a rate is shown.
	MinSample int `mapstructure:"min_sample"`
}

// Dispatch configures how actions are delivered into the shops.
type Dispatch struct {
	Enabled         bool          `mapstructure:"enabled"`
	Workers         int           `mapstructure:"workers"`
	BatchSize       int           `mapstructure:"batch_size"`
	Lease           time.Duration `mapstructure:"lease"`
	PollInterval    time.Duration `mapstructure:"poll_interval"`
	MaxAttempts     int           `mapstructure:"max_attempts"`
	BackoffBase     time.Duration `mapstructure:"backoff_base"`
	BackoffCap      time.Duration `mapstructure:"backoff_cap"`
	RatePerSecond   float64       `mapstructure:"rate_per_second"`
	Burst           int           `mapstructure:"burst"`
	BreakerFailures int           `mapstructure:"breaker_failures"`
	BreakerCooldown time.Duration `mapstructure:"breaker_cooldown"`
	HTTPTimeout     time.Duration `mapstructure:"http_timeout"`
	// AllowPrivate lets connectors call loopback, private and link-local
	// addresses (a shop on the same private network); AllowHosts names
	// single exceptions (host names, IPs or CIDRs).
	AllowPrivate bool     `mapstructure:"allow_private"`
	AllowHosts   []string `mapstructure:"allow_hosts"`
}

// HTTP configures the listener.
type HTTP struct {
	Addr string `mapstructure:"addr"`
	// PublicURL is how shops reach Treue (used in the Shopware confirmation URL).
	PublicURL         string        `mapstructure:"public_url"`
	MaxBodyBytes      int64         `mapstructure:"max_body_bytes"`
	ReadHeaderTimeout time.Duration `mapstructure:"read_header_timeout"`
	ReadTimeout       time.Duration `mapstructure:"read_timeout"`
	WriteTimeout      time.Duration `mapstructure:"write_timeout"`
	IdleTimeout       time.Duration `mapstructure:"idle_timeout"`
	ShutdownTimeout   time.Duration `mapstructure:"shutdown_timeout"`
	TrustedProxies    []string      `mapstructure:"trusted_proxies"`
	// AuthFailureRate and AuthFailureBurst bound failed webhook
	// authentications per client address (a token bucket each; rate 0: no
	// limit); AuthFailureClients bounds the addresses tracked at once.
	AuthFailureRate    float64 `mapstructure:"auth_failure_rate"`
	AuthFailureBurst   int     `mapstructure:"auth_failure_burst"`
	AuthFailureClients int     `mapstructure:"auth_failure_clients"`
	// PprofAddr serves Go's profiler (/debug/pprof/) on a separate listener,
	// for measuring; empty (the default) serves nothing. It has no auth:
	// bind it to loopback.
	PprofAddr string `mapstructure:"pprof_addr"`
}

// Database configures storage.
type Database struct {
	Driver          string        `mapstructure:"driver"`
	DSN             string        `mapstructure:"dsn"`
	AutoMigrate     bool          `mapstructure:"auto_migrate"`
	MaxOpenConns    int           `mapstructure:"max_open_conns"`
	MaxIdleConns    int           `mapstructure:"max_idle_conns"`
	ConnMaxLifetime time.Duration `mapstructure:"conn_max_lifetime"`
	SlowQuery       time.Duration `mapstructure:"slow_query"`
	// RequestTimeout bounds what an HTTP request waits for the database, so
	// that a frozen database is answered with a prompt 503 instead of a
	// request that hangs until the sender gives up.
	RequestTimeout time.Duration `mapstructure:"request_timeout"`
}

// Log configures the structured log.
type Log struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

// Security holds the key that encrypts shop secrets at rest.
type Security struct {
	SecretKey     string `mapstructure:"secret_key"`
	SecretKeyFile string `mapstructure:"secret_key_file"`
}

// Webhooks configures intake and processing.
type Webhooks struct {
	TimestampTolerance time.Duration `mapstructure:"timestamp_tolerance"`
	BatchSize          int           `mapstructure:"batch_size"`
	BacklogBatchSize   int           `mapstructure:"backlog_batch_size"`
	PollInterval       time.Duration `mapstructure:"poll_interval"`
	MaxAttempts        int           `mapstructure:"max_attempts"`
	// GroupCommit commits concurrent deliveries in one inbox transaction.
	GroupCommit         bool          `mapstructure:"group_commit"`
	GroupCommitMaxBatch int           `mapstructure:"group_commit_max_batch"`
	GroupCommitMaxWait  time.Duration `mapstructure:"group_commit_max_wait"`
	// UnknownShopTTL is how long the intake remembers that a shop does not
	// exist (0s: not at all); UnknownShopCacheSize bounds how many it keeps.
	UnknownShopTTL       time.Duration `mapstructure:"unknown_shop_ttl"`
	UnknownShopCacheSize int           `mapstructure:"unknown_shop_cache_size"`
	// JourneyCacheEvents bounds the events the processor keeps between
	// batches, for a minute each (0: none are kept).
	JourneyCacheEvents int `mapstructure:"journey_cache_events"`
}

// Shopware configures the Shopware 6 app.
type Shopware struct {
	AppName      string `mapstructure:"app_name"`
	AppSecret    string `mapstructure:"app_secret"`
	AppSecretEnv string `mapstructure:"app_secret_env"`
}

// Rules configures the merchant's rules file.
type Rules struct {
	File string `mapstructure:"file"`
	// ScanInterval is how often every customer is re-scanned for the
	// daily-scan rules and time-driven stage changes.
	ScanInterval time.Duration `mapstructure:"scan_interval"`
}

// Retention bounds how long personal data is kept.
type Retention struct {
	RawPayloadDays int `mapstructure:"raw_payload_days"`
	EventDays      int `mapstructure:"event_days"`
}

// Shop declares a shop (tenant) in the config file.
type Shop struct {
	Key       string   `mapstructure:"key"`
	Platform  string   `mapstructure:"platform"`
	Name      string   `mapstructure:"name"`
	Timezone  string   `mapstructure:"timezone"`
	Currency  string   `mapstructure:"currency"`
	Secret    string   `mapstructure:"secret"`
	SecretEnv string   `mapstructure:"secret_env"`
	Secrets   []string `mapstructure:"secrets"`
	// Domain is the Shopify shop domain, matched against X-Shopify-Shop-Domain.
	Domain string `mapstructure:"domain"`
	// ClientID is the Adobe I/O client id, matched against recipientclientid.
	ClientID string `mapstructure:"client_id"`
	// PublicKeyFiles are Adobe I/O Events public keys saved as PEM files,
	// under any name, for a host that cannot fetch them from
	// static.adobeioevents.com. Every file checks every Adobe delivery,
	// whatever key path the delivery names: they are all Adobe's keys.
	PublicKeyFiles []string `mapstructure:"public_key_files"`
	// ShopwareID is the Shopware shopId, for a Shopware shop declared by hand.
	ShopwareID string `mapstructure:"shopware_id"`
	URL        string `mapstructure:"url"`

	// Connector carries actions into the shop: shopware, magento, shopify or
	// notify (default: by platform; standard shops get notify).
	Connector string `mapstructure:"connector"`
	// API credentials for the connector. Each has an _env variant naming an
	// environment variable, which is the better place for a secret.
	APIKey          string `mapstructure:"api_key"`
	APIKeyEnv       string `mapstructure:"api_key_env"`
	APISecret       string `mapstructure:"api_secret"`
	APISecretEnv    string `mapstructure:"api_secret_env"`
	AccessToken     string `mapstructure:"access_token"`
	AccessTokenEnv  string `mapstructure:"access_token_env"`
	TokenSecret     string `mapstructure:"token_secret"`
	TokenSecretEnv  string `mapstructure:"token_secret_env"`
	NotifyURL       string `mapstructure:"notify_url"`
	NotifySecret    string `mapstructure:"notify_secret"`
	NotifySecretEnv string `mapstructure:"notify_secret_env"`
	// StandardSecret lets a shop of another platform take canonical events
	// on the Standard Webhooks route, signed with this secret.
	StandardSecret    string `mapstructure:"standard_secret"`
	StandardSecretEnv string `mapstructure:"standard_secret_env"`
	// ReconcileInterval overrides reconcile.interval for this shop ("0s"
	// switches it off); empty inherits.
	ReconcileInterval string `mapstructure:"reconcile_interval"`
}

// ReconcileEvery is how often the shop key is reconciled: its own
// reconcile_interval where the config declares one, else reconcile.interval.
func (c *Config) ReconcileEvery(key string) time.Duration {
	for _, s := range c.Shops {
		if s.Key == key && s.ReconcileInterval != "" {
			d, _ := time.ParseDuration(s.ReconcileInterval) // checked by Validate
			return d
		}
	}
	return c.Reconcile.Interval
}

// defaults lists every key with its default. Viper only maps environment
// variables onto keys it knows, so every key must appear here (spf13/viper#188).
var defaults = map[string]any{
	"http.addr":                        ":8080",
	"http.public_url":                  "",
	"http.max_body_bytes":              int64(1 << 20),
	"http.read_header_timeout":         5 * time.Second,
	"http.read_timeout":                15 * time.Second,
	"http.write_timeout":               30 * time.Second,
	"http.idle_timeout":                60 * time.Second,
	"http.shutdown_timeout":            20 * time.Second,
	"http.trusted_proxies":             []string{},
	"http.pprof_addr":                  "",
	"http.auth_failure_rate":           1.0,
	"http.auth_failure_burst":          20,
	"http.auth_failure_clients":        10000,
	"database.driver":                  "sqlite",
	"database.dsn":                     "treue.db",
	"database.auto_migrate":            false,
	"database.max_open_conns":          20,
	"database.max_idle_conns":          10,
	"database.conn_max_lifetime":       3 * time.Minute,
	"database.slow_query":              200 * time.Millisecond,
	"database.request_timeout":         2 * time.Second,
	"log.level":                        "info",
	"log.format":                       "json",
	"security.secret_key":              "",
	"security.secret_key_file":         "",
	"webhooks.timestamp_tolerance":     5 * time.Minute,
	"webhooks.batch_size":              50,
	"webhooks.backlog_batch_size":      0, // by driver, see Load
	"webhooks.poll_interval":           200 * time.Millisecond,
	"webhooks.max_attempts":            10,
	"webhooks.group_commit":            true,
	"webhooks.group_commit_max_batch":  128,
	"webhooks.group_commit_max_wait":   time.Millisecond,
	"webhooks.unknown_shop_ttl":        5 * time.Second,
	"webhooks.unknown_shop_cache_size": 10000,
	"webhooks.journey_cache_events":    20000,
	"shopware.app_name":                "",
	"shopware.app_secret":              "",
	"shopware.app_secret_env":          "",
	"rules.file":                       "rules.yaml",
	"rules.scan_interval":              time.Hour,
	"reports.min_sample":               30,
	"retention.raw_payload_days":       30,
	"retention.event_days":             1095,
	"shops":                            []any{},
	"dispatch.enabled":                 true,
	"dispatch.workers":                 4,
	"dispatch.batch_size":              10,
	"dispatch.lease":                   2 * time.Minute,
	"dispatch.poll_interval":           time.Second,
	"dispatch.max_attempts":            10,
	"dispatch.backoff_base":            10 * time.Minute,
	"dispatch.backoff_cap":             6 * time.Hour,
	"dispatch.rate_per_second":         10.0,
	"dispatch.burst":                   20,
	"dispatch.breaker_failures":        5,
	"dispatch.breaker_cooldown":        time.Minute,
	"dispatch.http_timeout":            20 * time.Second,
	"dispatch.allow_private":           false,
	"dispatch.allow_hosts":             []string{},
	"import.points":                    true,
	"import.page_size":                 100,
	"reconcile.interval":               time.Duration(0),
	"stock.notify_per_hour":            100,
	"stock.page_size":                  200,
	"reconcile.lookback":               72 * time.Hour,
	"reconcile.window":                 48 * time.Hour,
	"carts.abandon_after":              time.Hour,
	"carts.pass_interval":              time.Minute,
	"carts.lookback":                   24 * time.Hour,
}

// Keys returns every configuration key, sorted.
func Keys() []string {
	keys := make([]string, 0, len(defaults))
	for k := range defaults {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// EnvName is the environment variable that overrides key.
func EnvName(key string) string {
	return "TREUE_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Load reads path (optional: "" means defaults and environment only) and the
// environment through getenv, and validates the result.
func Load(path string, getenv func(string) string) (Config, error) {
	v := viper.New()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	var src *source
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		src, err = parseSource(path, data)
		if err != nil {
			return Config{}, err
		}
		if err := src.checkKnown(reflect.TypeOf(Config{})); err != nil {
			return Config{}, err
		}
		v.SetConfigType("yaml")
		if err := v.ReadConfig(strings.NewReader(string(data))); err != nil {
			return Config{}, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	// Environment variables are looked up through getenv, not os.Getenv, so that
	// tests and the caller decide what the process sees.
	for k := range defaults {
		if k == "shops" {
			continue
		}
		if val := getenv(EnvName(k)); val != "" {
			v.Set(k, val)
		}
	}
	var c Config
	err := v.UnmarshalExact(&c, func(dc *mapstructure.DecoderConfig) {
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		)
	})
	if err != nil {
		return Config{}, src.explain(err)
	}
	if err := c.resolveSecrets(getenv); err != nil {
		return Config{}, err
	}
	if c.Webhooks.BacklogBatchSize == 0 {
		// On MySQL bigger batches while a backlog waits cost the intake a
		// little latency and catch up much faster; on SQLite every webhook
		// waits for the one connection while a batch holds it (bench/README.md).
		c.Webhooks.BacklogBatchSize = c.Webhooks.BatchSize
		if c.Database.Driver == "mysql" {
			c.Webhooks.BacklogBatchSize = min(4*c.Webhooks.BatchSize, 1000)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, src.locate(err)
	}
	return c, nil
}

func (c *Config) resolveSecrets(getenv func(string) string) error {
	if c.Shopware.AppSecret == "" && c.Shopware.AppSecretEnv != "" {
		c.Shopware.AppSecret = getenv(c.Shopware.AppSecretEnv)
		if c.Shopware.AppSecret == "" {
			return &KeyError{Key: "shopware.app_secret_env", Msg: fmt.Sprintf("environment variable %s is empty", c.Shopware.AppSecretEnv)}
		}
	}
	for i := range c.Shops {
		s := &c.Shops[i]
		for _, f := range []struct {
			key  string
			env  string
			dest *string
		}{
			{"secret_env", s.SecretEnv, &s.Secret}, {"api_key_env", s.APIKeyEnv, &s.APIKey},
			{"api_secret_env", s.APISecretEnv, &s.APISecret}, {"access_token_env", s.AccessTokenEnv, &s.AccessToken},
			{"token_secret_env", s.TokenSecretEnv, &s.TokenSecret}, {"notify_secret_env", s.NotifySecretEnv, &s.NotifySecret},
			{"standard_secret_env", s.StandardSecretEnv, &s.StandardSecret},
		} {
			if f.env == "" {
				continue
			}
			val := getenv(f.env)
			if val == "" {
				return &KeyError{Key: fmt.Sprintf("shops[%d].%s", i, f.key), Msg: fmt.Sprintf("environment variable %s is empty", f.env)}
			}
			*f.dest = val
		}
	}
	return nil
}

// KeyError is a problem with one configuration key.
type KeyError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *KeyError) Error() string {
	if e.File != "" && e.Line > 0 {
		return fmt.Sprintf("config: %s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
	}
	return fmt.Sprintf("config: %s: %s", e.Key, e.Msg)
}

// Errors is several configuration problems.
type Errors []error

func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, err := range e {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "\n")
}

// Validate reports every impossible value, naming its key.
func (c *Config) Validate() error {
	var errs Errors
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if c.HTTP.Addr == "" {
		bad("http.addr", "must not be empty")
	}
	if c.HTTP.MaxBodyBytes < 1024 || c.HTTP.MaxBodyBytes > 64<<20 {
		bad("http.max_body_bytes", "must be between 1024 and 67108864, got %d", c.HTTP.MaxBodyBytes)
	}
	for key, d := range map[string]time.Duration{
		"http.read_header_timeout": c.HTTP.ReadHeaderTimeout, "http.read_timeout": c.HTTP.ReadTimeout,
		"http.write_timeout": c.HTTP.WriteTimeout, "http.idle_timeout": c.HTTP.IdleTimeout,
		"http.shutdown_timeout": c.HTTP.ShutdownTimeout, "webhooks.timestamp_tolerance": c.Webhooks.TimestampTolerance,
		"webhooks.poll_interval": c.Webhooks.PollInterval, "database.conn_max_lifetime": c.Database.ConnMaxLifetime,
		"rules.scan_interval": c.Rules.ScanInterval, "dispatch.lease": c.Dispatch.Lease,
		"dispatch.poll_interval": c.Dispatch.PollInterval, "dispatch.backoff_base": c.Dispatch.BackoffBase,
		"dispatch.backoff_cap": c.Dispatch.BackoffCap, "dispatch.breaker_cooldown": c.Dispatch.BreakerCooldown,
		"dispatch.http_timeout": c.Dispatch.HTTPTimeout, "database.request_timeout": c.Database.RequestTimeout,
	} {
		if d <= 0 {
			bad(key, "must be a positive duration such as 5s, got %s", d)
		}
	}
	if c.HTTP.AuthFailureRate < 0 || c.HTTP.AuthFailureRate > 1000 {
		bad("http.auth_failure_rate", "must be between 0 (no limit) and 1000 failures per second, got %g", c.HTTP.AuthFailureRate)
	}
	if c.HTTP.AuthFailureBurst < 1 || c.HTTP.AuthFailureBurst > 100000 {
		bad("http.auth_failure_burst", "must be between 1 and 100000")
	}
	if c.HTTP.AuthFailureClients < 1 || c.HTTP.AuthFailureClients > 10000000 {
		bad("http.auth_failure_clients", "must be between 1 and 10000000")
	}
	switch c.Database.Driver {
	case "sqlite", "mysql":
	default:
		bad("database.driver", "must be sqlite or mysql, got %q", c.Database.Driver)
	}
	if c.Database.DSN == "" {
		bad("database.dsn", "must not be empty")
	}
	if c.Database.MaxOpenConns < 1 {
		bad("database.max_open_conns", "must be at least 1")
	}
	if c.Database.MaxIdleConns < 0 || c.Database.MaxIdleConns > c.Database.MaxOpenConns {
		bad("database.max_idle_conns", "must be between 0 and database.max_open_conns")
	}
	if _, err := ParseLevel(c.Log.Level); err != nil {
		bad("log.level", "%v", err)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		bad("log.format", "must be json or text, got %q", c.Log.Format)
	}
	if c.Webhooks.BatchSize < 1 || c.Webhooks.BatchSize > 1000 {
		bad("webhooks.batch_size", "must be between 1 and 1000")
	}
	if c.Webhooks.BacklogBatchSize < c.Webhooks.BatchSize || c.Webhooks.BacklogBatchSize > 1000 {
		bad("webhooks.backlog_batch_size", "must be between webhooks.batch_size (%d) and 1000", c.Webhooks.BatchSize)
	}
	if c.Webhooks.MaxAttempts < 1 {
		bad("webhooks.max_attempts", "must be at least 1")
	}
	if c.Webhooks.GroupCommitMaxBatch < 1 || c.Webhooks.GroupCommitMaxBatch > 10000 {
		bad("webhooks.group_commit_max_batch", "must be between 1 and 10000")
	}
	if c.Webhooks.GroupCommitMaxWait < 0 || c.Webhooks.GroupCommitMaxWait > time.Second {
		bad("webhooks.group_commit_max_wait", "must be between 0s and 1s, got %s", c.Webhooks.GroupCommitMaxWait)
	}
	if c.Webhooks.UnknownShopTTL < 0 || c.Webhooks.UnknownShopTTL > time.Hour {
		bad("webhooks.unknown_shop_ttl", "must be between 0s (off) and 1h, got %s", c.Webhooks.UnknownShopTTL)
	}
	if c.Webhooks.UnknownShopCacheSize < 1 || c.Webhooks.UnknownShopCacheSize > 1000000 {
		bad("webhooks.unknown_shop_cache_size", "must be between 1 and 1000000")
	}
	if c.Webhooks.JourneyCacheEvents < 0 || c.Webhooks.JourneyCacheEvents > 10000000 {
		bad("webhooks.journey_cache_events", "must be between 0 (off) and 10000000")
	}
	if c.Dispatch.Workers < 1 || c.Dispatch.Workers > 256 {
		bad("dispatch.workers", "must be between 1 and 256")
	}
	if c.Dispatch.BatchSize < 1 || c.Dispatch.BatchSize > 1000 {
		bad("dispatch.batch_size", "must be between 1 and 1000")
	}
	if c.Dispatch.MaxAttempts < 1 {
		bad("dispatch.max_attempts", "must be at least 1")
	}
	if c.Dispatch.BackoffCap < c.Dispatch.BackoffBase {
		bad("dispatch.backoff_cap", "must not be below dispatch.backoff_base")
	}
	if c.Dispatch.RatePerSecond <= 0 {
		bad("dispatch.rate_per_second", "must be positive")
	}
	if c.Reports.MinSample < 1 || c.Reports.MinSample > 100000 {
		bad("reports.min_sample", "must be between 1 and 100000, got %d", c.Reports.MinSample)
	}
	for typ, d := range c.Reports.AttributionDays {
		if !models.ActionType(typ).Valid() {
			bad("reports.attribution_days."+typ, "is not an action type")
		} else if d <= 0 || d > 366 {
			bad("reports.attribution_days."+typ, "must be between 0 and 366 days, got %v", d)
		}
	}
	if c.Retention.RawPayloadDays < 1 {
		bad("retention.raw_payload_days", "must be at least 1")
	}
	if c.Reconcile.Interval < 0 || (c.Reconcile.Interval > 0 && c.Reconcile.Interval < time.Minute) {
		bad("reconcile.interval", "must be at least 1m (or 0s: off)")
	}
	if c.Reconcile.Lookback < time.Hour {
		bad("reconcile.lookback", "must be at least 1h")
	}
	if c.Reconcile.Window < 0 {
		bad("reconcile.window", "must not be negative")
	}
	if c.Carts.AbandonAfter < 0 {
		bad("carts.abandon_after", "must not be negative (0s: off)")
	}
	if c.Carts.PassInterval < 100*time.Millisecond {
		bad("carts.pass_interval", "must be at least 100ms")
	}
	if c.Carts.Lookback < time.Minute {
		bad("carts.lookback", "must be at least 1m")
	}
	if c.Import.PageSize < 1 || c.Import.PageSize > 250 {
		bad("import.page_size", "must be between 1 and 250")
	}
	if c.Stock.NotifyPerHour < 1 {
		bad("stock.notify_per_hour", "must be at least 1")
	}
	if c.Stock.PageSize < 1 || c.Stock.PageSize > 1000 {
		bad("stock.page_size", "must be between 1 and 1000")
	}
	if c.Retention.EventDays < 1 {
		bad("retention.event_days", "must be at least 1")
	}
	if (c.Shopware.AppName == "") != (c.Shopware.AppSecret == "") {
		bad("shopware.app_secret", "shopware.app_name and shopware.app_secret are set together or not at all")
	}
	if c.Shopware.AppName != "" && !strings.HasPrefix(c.HTTP.PublicURL, "http") {
		bad("http.public_url", "is required with the Shopware app: the URL shops reach Treue at, e.g. https://treue.example.com")
	}
	for i, h := range c.Dispatch.AllowHosts {
		if err := egress.CheckAllowHost(h); err != nil {
			bad(fmt.Sprintf("dispatch.allow_hosts[%d]", i), "%s", egressMessage(err))
		}
	}
	if err := c.ValidateShops(); err != nil {
		errs = append(errs, err.(Errors)...)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// ValidateShops checks the declared shops only. Their URLs are checked
// against c.Dispatch's allow_private and allow_hosts, as the dispatcher will
// call them.
func (c *Config) ValidateShops() error {
	var errs Errors
	seen := map[string]bool{}
	opts := c.Dispatch.EgressOptions()
	for i, s := range c.Shops {
		p := fmt.Sprintf("shops[%d]", i)
		if seen[s.Key] {
			errs = append(errs, &KeyError{Key: p + ".key", Msg: fmt.Sprintf("duplicate shop key %q", s.Key)})
		}
		seen[s.Key] = true
		errs = append(errs, s.validate(p, opts)...)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (s Shop) validate(p string, egressOpts egress.Options) Errors {
	var errs Errors
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: p + "." + key, Msg: fmt.Sprintf(format, args...)})
	}
	if s.Key == "" {
		bad("key", "is required")
	}
	switch s.Platform {
	case "standard":
		if s.Secret == "" && len(s.Secrets) == 0 {
			bad("secret", "is required for platform standard (or secret_env, or secrets); %s", standard.SecretFormat)
		}
		if s.Secret != "" {
			errs = append(errs, standardSecret(p, "secret", s.SecretEnv, s.Secret)...)
		}
		for i, sec := range s.Secrets {
			errs = append(errs, standardSecret(p, fmt.Sprintf("secrets[%d]", i), "", sec)...)
		}
	case "shopify", "shopware":
		if s.Secret == "" && len(s.Secrets) == 0 {
			bad("secret", "is required for platform %s (or secret_env, or secrets)", s.Platform)
		}
	case "adobe":
		if s.ClientID == "" {
			bad("client_id", "is required for platform adobe")
		}
	default:
		bad("platform", "must be one of shopware, shopify, adobe, standard; got %q", s.Platform)
	}
	if s.ReconcileInterval != "" {
		if d, err := time.ParseDuration(s.ReconcileInterval); err != nil || d < 0 {
			bad("reconcile_interval", "must be a duration such as 15m or 1h (0s: off), got %q", s.ReconcileInterval)
		} else if d > 0 && d < time.Minute {
			bad("reconcile_interval", "must be at least 1m (or 0s: off)")
		}
	}
	if s.Platform == "shopify" && s.Domain == "" {
		bad("domain", "is required for platform shopify")
	}
	if s.Platform == "shopware" && s.ShopwareID == "" {
		bad("shopware_id", "is required for a Shopware shop declared in the config (or let it register itself)")
	}
	if s.Timezone != "" {
		if _, err := time.LoadLocation(s.Timezone); err != nil {
			bad("timezone", "unknown time zone %q", s.Timezone)
		}
	}
	switch s.Connector {
	case "", "shopware", "magento", "shopify", "notify":
	default:
		bad("connector", "must be shopware, magento, shopify or notify; got %q", s.Connector)
	}
	// Every URL Treue will call is checked here as the dispatcher's client
	// will check it, so that a metadata endpoint, an internal address or
	// credentials in the URL stop the program instead of failing every action.
	for _, u := range []struct{ key, url string }{{"url", s.URL}, {"notify_url", s.NotifyURL}} {
		if u.url == "" {
			continue
		}
		if err := egress.CheckURL(u.url, egressOpts); err != nil {
			bad(u.key, "%s", egressMessage(err))
		}
	}
	if s.NotifySecret != "" {
		errs = append(errs, standardSecret(p, "notify_secret", s.NotifySecretEnv, s.NotifySecret)...)
	}
	if s.StandardSecret != "" {
		if s.Platform == string(models.PlatformStandard) {
			bad("standard_secret", "is for shops of another platform; a standard shop's deliveries are signed with its secret")
		}
		errs = append(errs, standardSecret(p, "standard_secret", s.StandardSecretEnv, s.StandardSecret)...)
	}
	for _, f := range s.PublicKeyFiles {
		if _, err := os.Stat(f); err != nil {
			bad("public_key_files", "%v", err)
		}
	}
	return errs
}

// EgressOptions is what the dispatcher's outbound client is built with.
func (d Dispatch) EgressOptions() egress.Options {
	return egress.Options{Timeout: d.HTTPTimeout, AllowPrivate: d.AllowPrivate, AllowHosts: d.AllowHosts}
}

// egressMessage words a refused URL or host for a config message: without
// the package prefix, and naming the settings that permit a private address.
func egressMessage(err error) string {
	msg := strings.ReplaceAll(err.Error(), "egress: ", "")
	var be *egress.BlockedError
	if errors.As(err, &be) && be.Private {
		msg += " (a shop on your own network: set dispatch.allow_private, or list the host in dispatch.allow_hosts)"
	}
	return msg
}

// standardSecret checks a Standard Webhooks secret as the receiver and the
// notifier will decode it, so that one they would refuse (an empty key, which
// anyone can sign with, or a short or non-base64 one) stops the program here
// instead of failing every delivery. A secret from an environment variable is
// reported under the _env key that names it.
func standardSecret(p, key, env, secret string) Errors {
	_, err := standard.DecodeSecret(secret)
	if err == nil {
		return nil
	}
	if env != "" {
		return Errors{&KeyError{Key: p + "." + key + "_env", Msg: fmt.Sprintf("environment variable %s %v", env, err)}}
	}
	return Errors{&KeyError{Key: p + "." + key, Msg: err.Error()}}
}

// ParseLevel maps a level name onto slog.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, errors.New("must be debug, info, warn or error")
	}
	return l, nil
}

// LogValue masks every secret, so a Config can be logged.
func (c Config) LogValue() slog.Value {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	return slog.GroupValue(
		slog.String("http.addr", c.HTTP.Addr),
		slog.String("database.driver", c.Database.Driver),
		slog.String("database.dsn", MaskDSN(c.Database.DSN)),
		slog.String("security.secret_key", mask(c.Security.SecretKey)),
		slog.String("shopware.app_name", c.Shopware.AppName),
		slog.String("shopware.app_secret", mask(c.Shopware.AppSecret)),
		slog.Int("shops", len(c.Shops)),
		slog.String("rules.file", c.Rules.File),
	)
}

// ClientURL is the base URL (scheme and host, no trailing slash) at which a
// client on this machine reaches a listener on addr, as http.addr gives it.
// A listener on every interface (":8080", "0.0.0.0:8080", "[::]:8080") is
// reached at localhost.
func ClientURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// MaskDSN hides the password in a go-sql-driver DSN (user:pass@tcp(...)/db).
func MaskDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	if at < 0 {
		return dsn
	}
	user, _, hasPass := strings.Cut(dsn[:at], ":")
	if !hasPass {
		return dsn
	}
	return user + ":***" + dsn[at:]
}
