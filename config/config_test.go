package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testSecret is the Standard Webhooks specification's test vector secret.
const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "treue.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad_Defaults(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != ":8080" || c.Database.Driver != "sqlite" || c.Database.DSN != "treue.db" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.HTTP.MaxBodyBytes != 1<<20 || c.Webhooks.TimestampTolerance != 5*time.Minute {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoad_BacklogBatchSizeByDriver(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want int
	}{
		{map[string]string{}, 50},
		{map[string]string{"TREUE_DATABASE_DRIVER": "mysql", "TREUE_SECURITY_SECRET_KEY": strings.Repeat("k", 32)}, 200},
		{map[string]string{"TREUE_DATABASE_DRIVER": "mysql", "TREUE_SECURITY_SECRET_KEY": strings.Repeat("k", 32), "TREUE_WEBHOOKS_BATCH_SIZE": "400"}, 1000},
		{map[string]string{"TREUE_DATABASE_DRIVER": "mysql", "TREUE_SECURITY_SECRET_KEY": strings.Repeat("k", 32), "TREUE_WEBHOOKS_BACKLOG_BATCH_SIZE": "50"}, 50},
		{map[string]string{"TREUE_WEBHOOKS_BACKLOG_BATCH_SIZE": "120"}, 120},
	} {
		c, err := Load("", func(k string) string { return tt.env[k] })
		if err != nil {
			t.Fatalf("%v: %v", tt.env, err)
		}
		if c.Webhooks.BacklogBatchSize != tt.want {
			t.Errorf("%v: backlog_batch_size %d, want %d", tt.env, c.Webhooks.BacklogBatchSize, tt.want)
		}
	}
}

func TestLoad_FileAndEnvPrecedence(t *testing.T) {
	p := writeFile(t, "http:\n  addr: \":9000\"\n  max_body_bytes: 2048\ndatabase:\n  driver: mysql\n  dsn: root:@tcp(127.0.0.1:3306)/x\n")
	c, err := Load(p, env(map[string]string{"TREUE_HTTP_ADDR": ":9100", "TREUE_HTTP_READ_TIMEOUT": "3s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != ":9100" {
		t.Errorf("env must win over file: %q", c.HTTP.Addr)
	}
	if c.HTTP.MaxBodyBytes != 2048 || c.Database.Driver != "mysql" {
		t.Errorf("file must win over defaults: %+v", c)
	}
	if c.HTTP.ReadTimeout != 3*time.Second {
		t.Errorf("env duration: %v", c.HTTP.ReadTimeout)
	}
}

func TestLoad_Errors(t *testing.T) {
	tests := []struct {
		name, file string
		env        map[string]string
		want       []string
	}{
		{"ErrUnknownKey", "http:\n  adress: x\n", nil, []string{`treue.yaml:2: http.adress: unknown key (did you mean "addr"?)`}},
		{"ErrUnknownSection", "htp: {}\n", nil, []string{`treue.yaml:1: htp: unknown key (did you mean "http"?)`}},
		{"ErrWrongType", "http:\n  max_body_bytes: lots\n", nil, []string{"treue.yaml:2: http.max_body_bytes"}},
		{"ErrImpossible", "http:\n  max_body_bytes: 10\n", nil, []string{"treue.yaml:2: http.max_body_bytes: must be between"}},
		{"ErrDriver", "", map[string]string{"TREUE_DATABASE_DRIVER": "oracle"}, []string{"database.driver: must be sqlite or mysql"}},
		{"ErrBacklogBatch", "webhooks:\n  batch_size: 100\n  backlog_batch_size: 60\n", nil, []string{"treue.yaml:3: webhooks.backlog_batch_size: must be between webhooks.batch_size (100) and 1000"}},
		{"ErrAuthFailureRate", "http:\n  auth_failure_rate: -1\n", nil, []string{"treue.yaml:2: http.auth_failure_rate: must be between 0 (no limit) and 1000 failures per second, got -1"}},
		{"ErrAuthFailureBurst", "", map[string]string{"TREUE_HTTP_AUTH_FAILURE_BURST": "0"}, []string{"http.auth_failure_burst: must be between 1 and 100000"}},
		{"ErrAuthFailureClients", "http:\n  auth_failure_clients: 0\n", nil, []string{"treue.yaml:2: http.auth_failure_clients: must be between 1 and 10000000"}},
		{"ErrUnknownShopTTL", "webhooks:\n  unknown_shop_ttl: -1s\n", nil, []string{"treue.yaml:2: webhooks.unknown_shop_ttl: must be between 0s (off) and 1h, got -1s"}},
		{"ErrUnknownShopCacheSize", "", map[string]string{"TREUE_WEBHOOKS_UNKNOWN_SHOP_CACHE_SIZE": "0"}, []string{"webhooks.unknown_shop_cache_size: must be between 1 and 1000000"}},
		{"ErrShop", "shops:\n  - key: acme\n    platform: standard\n", nil, []string{"treue.yaml:2: shops[0].secret: is required"}},
		{"ErrShopUnknownKey", "shops:\n  - key: acme\n    platfrom: standard\n", nil, []string{`treue.yaml:3: shops[0].platfrom: unknown key (did you mean "platform"?)`}},
		{"ErrSecretEnvEmpty", "shops:\n  - key: acme\n    platform: standard\n    secret_env: NOPE\n", nil, []string{"shops[0].secret_env: environment variable NOPE is empty"}},
		// A secret the receiver could only use as an empty or short key
		// (anyone could sign with it) stops the program, naming the line.
		{"ErrShopSecretRequired", "shops:\n  - key: acme\n    platform: standard\n", nil, []string{"shops[0].secret: is required for platform standard", "generate one with: echo whsec_$(head -c 32 /dev/urandom | base64)"}},
		{"ErrShopSecretEmpty", "shops:\n  - key: acme\n    platform: standard\n    secret: whsec_\n", nil, []string{"treue.yaml:4: shops[0].secret: is empty; a Standard Webhooks secret is whsec_ followed by base64 of 24–64 random bytes"}},
		{"ErrShopSecretShort", "shops:\n  - key: acme\n    platform: standard\n    secret: whsec_c2hvcnQ=\n", nil, []string{"treue.yaml:4: shops[0].secret: decodes to 5 bytes, not 24 to 64"}},
		{"ErrShopSecretTooLong", "shops:\n  - key: acme\n    platform: standard\n    secret: " + strings.Repeat("A", 88) + "\n", nil, []string{"treue.yaml:4: shops[0].secret: decodes to 66 bytes, not 24 to 64"}},
		{"ErrShopSecretRaw", "shops:\n  - key: acme\n    platform: standard\n    secret: my-shop-secret-0123456789\n", nil, []string{"treue.yaml:4: shops[0].secret: is not base64 after the optional whsec_ prefix"}},
		{"ErrShopSecretsEntry", "shops:\n  - key: acme\n    platform: standard\n    secrets:\n      - " + testSecret + "\n      - whsec_\n", nil, []string{"treue.yaml:6: shops[0].secrets[1]: is empty"}},
		{"ErrShopSecretEnvShort", "shops:\n  - key: acme\n    platform: standard\n    secret_env: ACME_SECRET\n", map[string]string{"ACME_SECRET": "whsec_c2hvcnQ="}, []string{"treue.yaml:4: shops[0].secret_env: environment variable ACME_SECRET decodes to 5 bytes"}},
		{"ErrNotifySecret", "shops:\n  - key: acme\n    platform: standard\n    secret: " + testSecret + "\n    notify_secret: whsec_\n", nil, []string{"treue.yaml:5: shops[0].notify_secret: is empty"}},
		{"ErrStandardSecretOnStandard", "shops:\n  - key: acme\n    platform: standard\n    secret: " + testSecret + "\n    standard_secret: " + testSecret + "\n", nil, []string{"treue.yaml:5: shops[0].standard_secret: is for shops of another platform; a standard shop's deliveries are signed with its secret"}},
		{"ErrStandardSecret", "shops:\n  - key: us\n    platform: shopify\n    domain: a.myshopify.com\n    secret: hush\n    standard_secret: whsec_\n", nil, []string{"treue.yaml:6: shops[0].standard_secret: is empty"}},
		{"ErrNotifySecretEnv", "shops:\n  - key: acme\n    platform: shopify\n    domain: a.myshopify.com\n    secret: hush\n    connector: notify\n    notify_secret_env: NOTIFY\n", map[string]string{"NOTIFY": "c2hvcnQ="}, []string{"treue.yaml:7: shops[0].notify_secret_env: environment variable NOTIFY decodes to 5 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ""
			if tt.file != "" {
				p = writeFile(t, tt.file)
			}
			_, err := Load(p, env(tt.env))
			if err == nil {
				t.Fatal("want error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestLoad_UnknownKeySuggestion: an unknown key names the key it probably
// meant, as `treue rules check` does for rules files.
func TestLoad_UnknownKeySuggestion(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{"http:\n  adress: x\n", `http.adress: unknown key (did you mean "addr"?)`},
		{"http:\n  addres: x\n", `http.addres: unknown key (did you mean "addr"?)`},
		{"http:\n  publicurl: x\n", `http.publicurl: unknown key (did you mean "public_url"?)`},
		{"http:\n  MaxBodyBytes: 1\n", `http.MaxBodyBytes: unknown key (did you mean "max_body_bytes"?)`},
		{"databse:\n  driver: sqlite\n", `databse: unknown key (did you mean "database"?)`},
		{"dispatch:\n  workres: 2\n", `dispatch.workres: unknown key (did you mean "workers"?)`},
		// The right key under the wrong heading, or without one.
		{"http:\n  request_timeout: 1s\n", `http.request_timeout: unknown key (did you mean "database.request_timeout"?)`},
		{"addr: \":9090\"\n", `addr: unknown key (did you mean "http.addr"?)`},
		{"shops:\n  - key: acme\n    secert: x\n", `shops[0].secert: unknown key (did you mean "secret"?)`},
		// Nothing close: the section's keys.
		{"log:\n  colour: true\n", `log.colour: unknown key (known: format, level)`},
	} {
		_, err := Load(writeFile(t, tt.file), env(nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %q", tt.file, err, tt.want)
		}
	}
}

func TestLoad_ShopSecretEnv(t *testing.T) {
	p := writeFile(t, "shops:\n  - key: acme\n    platform: standard\n    secret_env: ACME_SECRET\n")
	c, err := Load(p, env(map[string]string{"ACME_SECRET": testSecret}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Shops[0].Secret != testSecret {
		t.Fatalf("secret_env not resolved: %+v", c.Shops[0])
	}
}

// TestLoad_StandardSecretForms: the whsec_ prefix is optional, as in the
// reference libraries; other platforms' secrets are not Standard Webhooks
// secrets and are not decoded.
func TestLoad_StandardSecretForms(t *testing.T) {
	p := writeFile(t, "shops:\n  - key: acme\n    platform: standard\n    secret: "+strings.TrimPrefix(testSecret, "whsec_")+
		"\n    notify_secret: "+testSecret+"\n  - key: us\n    platform: shopify\n    domain: a.myshopify.com\n    secret: hush\n")
	if _, err := Load(p, env(nil)); err != nil {
		t.Fatal(err)
	}
}

func TestConfig_LogValueMasksSecrets(t *testing.T) {
	c, _ := Load("", env(nil))
	c.Security.SecretKey = "topsecret"
	c.Database.DSN = "root:hunter2@tcp(db:3306)/treue"
	s := c.LogValue().String()
	if strings.Contains(s, "topsecret") || strings.Contains(s, "hunter2") {
		t.Fatalf("secret in log value: %s", s)
	}
}

func TestClientURL(t *testing.T) {
	for addr, want := range map[string]string{
		":8080":          "http://localhost:8080",
		"0.0.0.0:9090":   "http://localhost:9090",
		"[::]:9090":      "http://localhost:9090",
		"127.0.0.1:8081": "http://127.0.0.1:8081",
		"[::1]:8081":     "http://[::1]:8081",
		"treue:8080":     "http://treue:8080",
	} {
		if got := ClientURL(addr); got != want {
			t.Errorf("ClientURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestKeysHaveEnvNames(t *testing.T) {
	for _, k := range Keys() {
		if !strings.HasPrefix(EnvName(k), "TREUE_") {
			t.Fatal(k)
		}
	}
	if EnvName("http.max_body_bytes") != "TREUE_HTTP_MAX_BODY_BYTES" {
		t.Fatal(EnvName("http.max_body_bytes"))
	}
}

// TestLoad_ShopURLs: every URL Treue will call is checked at load, with the
// file, line and key, as the dispatcher's client will check it.
func TestLoad_ShopURLs(t *testing.T) {
	shop := func(field, url string) string {
		return "shops:\n  - key: acme\n    platform: standard\n    secret: " + testSecret + "\n    " + field + ": " + url + "\n"
	}
	tests := []struct {
		name, file string
		env        map[string]string
		want       string // "" means valid
	}{
		{"Public", shop("url", "https://shop.example.com/rest"), nil, ""},
		{"NotifyPublic", shop("notify_url", "https://esp.example.com/hooks"), nil, ""},
		{"Metadata", shop("url", "http://169.254.169.254/latest/meta-data/"), nil, "treue.yaml:5: shops[0].url: 169.254.169.254 is a cloud metadata endpoint"},
		{"MetadataName", shop("notify_url", "http://metadata.google.internal/"), nil, "treue.yaml:5: shops[0].notify_url: metadata.google.internal is a cloud metadata endpoint"},
		{"MetadataAllowPrivate", shop("url", "http://169.254.169.254/"), map[string]string{"TREUE_DISPATCH_ALLOW_PRIVATE": "true"}, "shops[0].url: 169.254.169.254 is a cloud metadata endpoint"},
		{"MetadataAllowHostsCIDR", shop("url", "http://169.254.169.254/"), map[string]string{"TREUE_DISPATCH_ALLOW_HOSTS": "169.254.0.0/16"}, "shops[0].url: 169.254.169.254 is a cloud metadata endpoint"},
		{"Credentials", shop("url", "http://user:pw@127.0.0.1/"), map[string]string{"TREUE_DISPATCH_ALLOW_PRIVATE": "true"}, "treue.yaml:5: shops[0].url: http://127.0.0.1/: credentials in the URL (user:password@) are not allowed"},
		{"Decimal", shop("url", "http://2130706433/"), nil, "treue.yaml:5: shops[0].url: 2130706433 is not an IP address in canonical form"},
		{"Hex", shop("notify_url", "http://0x7f000001/"), nil, "shops[0].notify_url: 0x7f000001 is not an IP address in canonical form"},
		{"Short", shop("url", "http://127.1/"), nil, "shops[0].url: 127.1 is not an IP address in canonical form"},
		{"Octal", shop("url", "http://0177.0.0.1/"), nil, "shops[0].url: 0177.0.0.1 is not an IP address in canonical form"},
		{"Loopback", shop("url", "http://127.0.0.1:8080/"), nil, "treue.yaml:5: shops[0].url: 127.0.0.1 is loopback: destination not allowed (a shop on your own network: set dispatch.allow_private, or list the host in dispatch.allow_hosts)"},
		{"LoopbackAllowed", shop("url", "http://127.0.0.1:8080/"), map[string]string{"TREUE_DISPATCH_ALLOW_HOSTS": "127.0.0.1"}, ""},
		{"PrivateAllowed", shop("url", "http://10.0.0.5/"), map[string]string{"TREUE_DISPATCH_ALLOW_PRIVATE": "true"}, ""},
		{"Scheme", shop("notify_url", "ftp://esp.example.com/"), nil, "shops[0].notify_url: ftp://esp.example.com/: scheme must be http or https"},
		{"AllowHostsMetadata", "dispatch:\n  allow_hosts:\n    - 10.0.0.0/8\n    - 169.254.169.254\n", nil, "treue.yaml:4: dispatch.allow_hosts[1]: 169.254.169.254 is a cloud metadata endpoint"},
		{"AllowHostsMetadataName", "", map[string]string{"TREUE_DISPATCH_ALLOW_HOSTS": "shop.internal,metadata.google.internal"}, "dispatch.allow_hosts[1]: metadata.google.internal is a cloud metadata endpoint"},
		{"AllowHostsNonCanonical", "dispatch:\n  allow_hosts: [\"127.1\"]\n", nil, "treue.yaml:2: dispatch.allow_hosts[0]: 127.1 is not an IP address in canonical form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tt.file), env(tt.env))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestLoad_AuthFailureLimit(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.AuthFailureRate != 1 || c.HTTP.AuthFailureBurst != 20 || c.HTTP.AuthFailureClients != 10000 {
		t.Fatalf("defaults: %+v", c.HTTP)
	}
	if c.Webhooks.UnknownShopTTL != 5*time.Second || c.Webhooks.UnknownShopCacheSize != 10000 {
		t.Fatalf("defaults: %+v", c.Webhooks)
	}
	c, err = Load("", env(map[string]string{"TREUE_HTTP_AUTH_FAILURE_RATE": "0.25", "TREUE_HTTP_AUTH_FAILURE_BURST": "5", "TREUE_WEBHOOKS_UNKNOWN_SHOP_TTL": "0s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.AuthFailureRate != 0.25 || c.HTTP.AuthFailureBurst != 5 || c.Webhooks.UnknownShopTTL != 0 {
		t.Fatalf("from the environment: %+v %+v", c.HTTP, c.Webhooks)
	}
}
