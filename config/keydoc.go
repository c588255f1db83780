package config

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:generate go test -run ^TestConfigDoc$ -update

// KeyDoc documents one configuration key. docs/configuration.md is generated
// from keyDocs and the defaults (go generate ./config); a test fails when a
// key has no entry here or the document differs from what would be generated.
type KeyDoc struct {
	// Default is shown instead of the default's value where that needs words.
	Default string
	// Text says what the key does (Markdown, links relative to docs/).
	Text string
}

// keyDocs says what each key of Config does, by its path in the file; a
// shop's keys are "shops[].key".
var keyDocs = map[string]KeyDoc{
	"http.addr":                        {Text: "listen address; `treue healthcheck` and `examples/send` follow it"},
	"http.public_url":                  {Text: "how shops reach Treue; required for the Shopware app (confirmation URL). The console and webhook URLs `serve` logs on start use it, else the listen address"},
	"http.max_body_bytes":              {Text: "body cap for every request (413 above)"},
	"http.read_header_timeout":         {Text: "how long a client may take to send the request headers"},
	"http.read_timeout":                {Text: "how long a client may take to send the whole request"},
	"http.write_timeout":               {Text: "how long writing the answer may take"},
	"http.idle_timeout":                {Text: "how long an idle keep-alive connection stays open"},
	"http.shutdown_timeout":            {Text: "how long in-flight requests may drain on SIGINT/SIGTERM"},
	"http.trusted_proxies":             {Text: "proxies whose `X-Forwarded-For` is believed"},
	"http.auth_failure_rate":           {Text: "failed webhook authentications per second that a client address earns back (a token bucket per IPv4 address or IPv6 /64); `0` turns the limit off. See [failed authentications](platforms/README.md#failed-authentications)"},
	"http.auth_failure_burst":          {Text: "failed authentications an address may have in a row before its failures are answered `429`"},
	"http.auth_failure_clients":        {Text: "addresses tracked at once (bounds memory); past it, new addresses share one bucket"},
	"http.pprof_addr":                  {Text: "serve Go's profiler (`/debug/pprof/`) on this separate address, e.g. `127.0.0.1:6060`; no auth, so loopback only. Off by default"},
	"database.driver":                  {Text: "`sqlite` or `mysql`"},
	"database.dsn":                     {Text: "SQLite file, or go-sql-driver DSN `user:pass@tcp(host:3306)/treue?parseTime=true` (Treue adds `parseTime`, UTC and utf8mb4 itself)"},
	"database.auto_migrate":            {Text: "migrate MySQL on `serve`; SQLite is always migrated by `serve`. Otherwise `serve` refuses a schema that is behind and names `treue migrate`"},
	"database.max_open_conns":          {Text: "MySQL pool (SQLite uses one connection: one writer at a time)"},
	"database.max_idle_conns":          {Text: "idle MySQL connections kept in the pool"},
	"database.conn_max_lifetime":       {Text: "keep below MySQL's `wait_timeout`"},
	"database.slow_query":              {Text: "slower statements are logged (without their values)"},
	"reports.min_sample":               {Text: "customers a group needs before the reports show its rate"},
	"reports.attribution_days":         {Default: "see [Reports](reports.md#does-a-rule-work)", Text: "per action type, days after an action in which an order or review counts for it, e.g. `{reorder_reminder: 21}`"},
	"database.request_timeout":         {Text: "how long an HTTP request (a webhook's shop lookup and inbox commit, `/readyz`, the API) waits for the database; then it is answered `503` with `Retry-After: 5`, well inside the senders' 5–20 s timeouts, instead of hanging on a frozen database"},
	"log.level":                        {Text: "`debug`, `info`, `warn`, `error`"},
	"log.format":                       {Text: "`json` or `text` (to stderr)"},
	"security.secret_key":              {Text: "≥32 characters; encrypts shop secrets (AES-256-GCM). Required with MySQL"},
	"security.secret_key_file":         {Text: "read the key from a file instead. On SQLite with neither set, `treue.key` is created beside the database and its path logged: back it up with the database. When the database holds sealed secrets and `treue.key` is missing, every command that needs the key stops with `the key file … is missing, but … holds the secrets of N shops` rather than create a new key"},
	"webhooks.timestamp_tolerance":     {Text: "how old (or new) a signed timestamp may be"},
	"webhooks.batch_size":              {Text: "deliveries processed per transaction"},
	"webhooks.backlog_batch_size":      {Default: "MySQL: 4 × `batch_size`; SQLite: `batch_size`", Text: "while a backlog waits, each full batch is followed by one twice its size, up to this (≥ `batch_size`; equal turns growth off). On MySQL at 1,000 webhooks/s it cut the processing lag from 7.8 s to 1.8 s for 11 ms more p99 at the intake; on SQLite webhooks wait for the one connection while a batch holds it (p99 0.4 s → 1.3 s), so it stays off there"},
	"webhooks.poll_interval":           {Text: "inbox polling when idle"},
	"webhooks.group_commit":            {Text: "commit concurrent deliveries together: each is answered only after the shared commit"},
	"webhooks.group_commit_max_batch":  {Text: "deliveries per shared commit"},
	"webhooks.group_commit_max_wait":   {Text: "how long a delivery may wait for others to share its commit (0s: none)"},
	"webhooks.unknown_shop_ttl":        {Text: "how long the intake remembers that a shop does not exist, so that deliveries for it do not cost a database read each; a shop added meanwhile (by another process) is found after at most this long. `0s` turns it off"},
	"webhooks.unknown_shop_cache_size": {Text: "at most this many unknown shops are remembered (made-up shop keys cannot grow memory beyond it)"},
	"webhooks.journey_cache_events":    {Text: "the processor keeps the decoded events of customers it processed in the last minute, at most this many events (about 1.5 KB each), and reads them again only when they changed ([operations](operations.md#health-metrics-logs-and-shutdown)); `0` turns the cache off"},
	"webhooks.max_attempts":            {Text: "a delivery that cannot be processed (e.g. a refund for an order never seen) is retried with backoff this often, then marked failed"},
	"shopware.app_name":                {Text: "the app's `<name>` in `manifest.xml` (e.g. `TreueLoyalty`)"},
	"shopware.app_secret":              {Text: "the manifest's `<secret>`"},
	"shopware.app_secret_env":          {Text: "name of an environment variable holding it"},
	"rules.file":                       {Text: "the merchant's rules; a missing file means no actions until it appears"},
	"rules.scan_interval":              {Text: "how often every customer is re-scanned (stages that change with time, win-back, birthdays)"},
	"import.points":                    {Text: "imported history books the points its rules award (as `suppressed` actions: the balance counts them, nothing is sent); `false`: imported customers start at 0 points"},
	"import.page_size":                 {Text: "orders per API request (1–250), for the import and the reconciliation"},
	"reconcile.interval":               {Default: "`0s` (off)", Text: "how often `serve` reads each shop's recently changed orders from its API to find lost webhooks (at least `1m`); `shops[].reconcile_interval` overrides it per shop"},
	"stock.notify_per_hour":            {Text: "back-in-stock notices: how many subscribers of one SKU a restock notifies per hour, oldest subscription first; the k-th (from 0) is due k ÷ N hours after the restock. See [back in stock](rules.md#back-in-stock)"},
	"stock.page_size":                  {Text: "back-in-stock notices one transaction records (1–1000); a restock with more subscribers takes several"},
	"reconcile.lookback":               {Text: "how far back a reconciliation pass reads orders changed (at least `1h`)"},
	"carts.abandon_after":              {Text: "a cart (`cart.updated`, `checkout.started`) that no order holding one of its items followed this long after its last update is recorded as `cart.abandoned` (see [rules](rules.md#carts)); `0s` turns it off"},
	"carts.pass_interval":              {Text: "how often `serve` looks for carts that became abandoned (one replica at a time)"},
	"carts.lookback":                   {Text: "an abandonment that happened longer ago than this (after an outage, or when carts are first sent) is not recorded, so no one is reminded of a cart long gone"},
	"reconcile.window":                 {Text: "a step read from a shop's API that happened less than this long ago plans actions as its webhook would; an older one is history and plans only actions due from now on"},
	"retention.raw_payload_days":       {Text: "raw webhook bodies are blanked after this many days"},
	"retention.event_days":             {Text: "journey events are deleted after this many days"},
	"dispatch.enabled":                 {Text: "deliver due actions into the shops from this process"},
	"dispatch.workers":                 {Text: "calls in flight at once per process"},
	"dispatch.batch_size":              {Text: "actions claimed per claim"},
	"dispatch.lease":                   {Text: "how long a claim is exclusive; after a crash another process takes the action over when it expires"},
	"dispatch.poll_interval":           {Text: "how often an idle dispatcher looks for due actions"},
	"dispatch.max_attempts":            {Text: "calls before an action is `dead`"},
	"dispatch.backoff_base":            {Text: "exponential backoff with full jitter: attempt n waits up to base·2ⁿ⁻¹"},
	"dispatch.backoff_cap":             {Text: "cap of one wait (10 attempts span about a day)"},
	"dispatch.rate_per_second":         {Text: "calls per second per shop"},
	"dispatch.burst":                   {Text: "calls a shop may get in a row above `dispatch.rate_per_second`"},
	"dispatch.breaker_failures":        {Text: "consecutive transient failures that pause a shop's dispatch"},
	"dispatch.breaker_cooldown":        {Text: "how long it pauses; other shops go on"},
	"dispatch.http_timeout":            {Text: "one outbound call"},
	"dispatch.allow_private":           {Text: "allow calls to loopback, private and link-local addresses (cloud metadata stays blocked)"},
	"dispatch.allow_hosts":             {Text: "single exceptions: host names, IPs (`a.b.c.d`) or CIDRs. They never unblock a cloud metadata endpoint, even inside an allowed CIDR such as `169.254.0.0/16`; an entry naming one is refused"},
	"shops":                            {Text: "shops declared in the file, see below"},
	"shops[].key":                      {Text: "URL-safe, unique: the shop's name in URLs (`/webhooks/standard/{shop}`) and commands"},
	"shops[].platform":                 {Text: "`standard`, `shopware`, `shopify` or `adobe`"},
	"shops[].name":                     {Text: "the shop's display name"},
	"shops[].timezone":                 {Text: "IANA time zone (`Europe/Berlin`): quiet hours, birthdays, report days"},
	"shops[].currency":                 {Text: "ISO 4217 currency (`EUR`)"},
	"shops[].secret":                   {Text: "the webhook secret; a standard shop's must be a [Standard Webhooks secret](platforms/standard.md)"},
	"shops[].secret_env":               {Text: "name of an environment variable holding the webhook secret"},
	"shops[].secrets":                  {Text: "a list of webhook secrets, current first, during a rotation"},
	"shops[].domain":                   {Text: "Shopify: the shop domain, matched against `X-Shopify-Shop-Domain`"},
	"shops[].client_id":                {Text: "Adobe: the I/O client id, matched against `recipientclientid`"},
	"shops[].public_key_files":         {Text: "Adobe: I/O Events public keys saved as PEM files, under any name, for a host that cannot fetch them from `static.adobeioevents.com` ([Adobe](platforms/adobe.md))"},
	"shops[].shopware_id":              {Text: "Shopware: the shopId, for a Shopware shop declared by hand instead of registering itself"},
	"shops[].url":                      {Text: "the shop's API base, for the connector and the history reader (and a Shopware shop declared by hand)"},
	"shops[].connector":                {Text: "what carries actions into the shop: `shopware`, `magento`, `shopify` or `notify`; default by platform: Shopware → shopware, Shopify → shopify, Adobe → magento, standard → notify ([actions](actions.md))"},
	"shops[].api_key":                  {Text: "connector credential (Magento: the integration's consumer key)"},
	"shops[].api_key_env":              {Text: "name of an environment variable holding `api_key`"},
	"shops[].api_secret":               {Text: "connector credential (Magento: the consumer secret)"},
	"shops[].api_secret_env":           {Text: "name of an environment variable holding `api_secret`"},
	"shops[].access_token":             {Text: "connector credential (Shopify: the Admin API token; Magento: the access token, bearer when it is the only one set)"},
	"shops[].access_token_env":         {Text: "name of an environment variable holding `access_token`"},
	"shops[].token_secret":             {Text: "connector credential (Magento: the access token secret, OAuth 1.0a)"},
	"shops[].token_secret_env":         {Text: "name of an environment variable holding `token_secret`"},
	"shops[].notify_url":               {Text: "where the `notify` connector posts actions as Standard Webhooks (e.g. the merchant's e-mail platform)"},
	"shops[].notify_secret":            {Text: "the Standard Webhooks secret the notify webhooks are signed with; default: the webhook secret, so set it for a shop of another platform, whose own secret is usually not a Standard Webhooks secret"},
	"shops[].notify_secret_env":        {Text: "name of an environment variable holding `notify_secret`"},
	"shops[].standard_secret":          {Text: "a Standard Webhooks secret with which a Shopware, Shopify or Adobe shop also takes canonical events on `POST /webhooks/standard/{key}`, from an extension or app (back-in-stock subscriptions, reviews, surveys, complaints), into the same journeys"},
	"shops[].standard_secret_env":      {Text: "name of an environment variable holding `standard_secret`"},
	"shops[].reconcile_interval":       {Text: "a duration overriding `reconcile.interval` for this shop (`0s` off; empty inherits)"},
}

const docHeader = `<!-- Generated from config/keydoc.go by ` + "`go generate ./config`" + `: edit that file, not this one. -->

# Configuration

Every key can be set in the YAML file given with ` + "`--config`" + ` (or ` + "`TREUE_CONFIG`" + `), and
overridden by an environment variable ` + "`TREUE_<SECTION>_<KEY>`" + `. With no file at all the
defaults below apply. Unknown keys, wrong types and impossible values stop the program with a
message such as ` + "`config: treue.yaml:3: http.adress: unknown key (did you mean \"addr\"?)`" + `:
an unknown key names the nearest known one, or the same key in another section
(` + "`http.request_timeout`" + ` → ` + "`did you mean \"database.request_timeout\"?`" + `), or else lists
the section's keys. Secrets are never printed; the startup log shows the config with secrets
masked. Durations are written ` + "`200ms`, `5s`, `3m`, `1h`" + `; lists in the environment are
comma-separated.

| key | default | env | meaning |
|---|---|---|---|
`

const docShops = `
## Shops

A shop in ` + "`shops:`" + ` has these keys; which of them a shop needs depends on its platform
([platforms](platforms/README.md)) and its connector ([actions](actions.md)). Each secret
also has an ` + "`…_env`" + ` variant naming an environment variable, which is the better place for a
secret.

| key | meaning |
|---|---|
`

const docFooter = `
A standard shop's ` + "`secret` / `secrets`" + ` and every ` + "`notify_secret`" + ` must be Standard Webhooks
secrets (see [Any shop: Standard Webhooks](platforms/standard.md)). ` + "`url` and `notify_url`" + ` are
checked at load as the dispatcher will call them (see [Outgoing calls](actions.md#outgoing-calls)):
a metadata endpoint, ` + "`user:password@`" + `, an IPv4 address written other than ` + "`a.b.c.d`" + `, or a
loopback or private address that ` + "`dispatch.allow_private` / `dispatch.allow_hosts`" + ` do not
allow stops the program with file, line and key. Shops from the file are written to the
database on every start (the file owns their webhook secrets); ` + "`treue shops remove`" + ` is the
only way to delete one, because that deletes its data.
`

// DocKeys lists every key of the file as the document names it: the
// sections' keys ("http.addr") and a shop's ("shops[].key"), in the order
// of Config's fields.
func DocKeys() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := f.Tag.Get("mapstructure")
			if name == "" || name == "-" {
				continue
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			switch {
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, p)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				out = append(out, p)
				walk(f.Type.Elem(), p+"[]")
			default:
				out = append(out, p)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return out
}

// Doc renders docs/configuration.md.
func Doc() []byte {
	var b bytes.Buffer
	b.WriteString(docHeader)
	var shops []string
	for _, k := range DocKeys() {
		if strings.HasPrefix(k, "shops[].") {
			shops = append(shops, k)
			continue
		}
		d := keyDocs[k]
		def := d.Default
		if def == "" {
			def = formatDefault(defaults[k])
		}
		env := ""
		switch v, ok := defaults[k]; {
		case k == "shops":
			env = "(file only)"
		case !ok:
			env = "(file only)" // Viper maps no environment variable onto a key without a default
		default:
			env = "`" + EnvName(k) + "`"
			if reflect.TypeOf(v).Kind() == reflect.Slice {
				env += " (comma-separated)"
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k, def, env, d.Text)
	}
	b.WriteString(docShops)
	for _, k := range shops {
		fmt.Fprintf(&b, "| `%s` | %s |\n", strings.TrimPrefix(k, "shops[]."), keyDocs[k].Text)
	}
	b.WriteString(docFooter)
	return b.Bytes()
}

// formatDefault writes a default as it is written in the file.
func formatDefault(v any) string {
	var s string
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		if v == "" {
			return ""
		}
		s = v
	case time.Duration:
		s = v.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	case []string, []any:
		if reflect.ValueOf(v).Len() != 0 {
			panic("config: a list default is shown as [] only when empty")
		}
		s = "[]"
	default:
		s = fmt.Sprint(v)
	}
	return "`" + s + "`"
}

// undocumented lists the keys without a description, and descriptions of
// keys that do not exist.
func undocumented() (missing, unknown []string) {
	keys := DocKeys()
	for k := range defaults {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if keyDocs[k].Text == "" {
			missing = append(missing, k)
		}
	}
	for k := range keyDocs {
		if !slices.Contains(keys, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(unknown)
	return missing, unknown
}
