package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin/standard"
)

// TestShopsAdd_StandardSecret: shops add refuses a Standard Webhooks secret
// that the receiver could only use as an empty or short key, says what a
// secret looks like, and stores nothing; a secret without the whsec_ prefix
// is base64 like one with it.
func TestShopsAdd_StandardSecret(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		e.env["SHORT_SECRET"] = "whsec_c2hvcnQ="
		const howTo = "a Standard Webhooks secret is whsec_ followed by base64 of 24–64 random bytes; generate one with: echo whsec_$(head -c 32 /dev/urandom | base64)"
		add := []string{"shops", "add", "--key", "raw", "--platform", "standard"}
		// A refused shop is refused before the database is opened; the
		// schema is there so that the check below can look.
		if _, err := e.run(t, "migrate"); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name string
			args []string
			want string
		}{
			{"ErrEmpty", []string{"--secret", "whsec_"}, "--secret: is empty; " + howTo},
			{"ErrShort", []string{"--secret", "whsec_c2hvcnQ="}, "--secret: decodes to 5 bytes, not 24 to 64; " + howTo},
			{"ErrRaw", []string{"--secret", "my-shop-secret-0123456789"}, "--secret: is not base64 after the optional whsec_ prefix"},
			{"ErrEnvShort", []string{"--secret-env", "SHORT_SECRET"}, "--secret-env: environment variable SHORT_SECRET decodes to 5 bytes"},
			{"ErrMissing", nil, "--secret: is required for platform standard (or secret_env, or secrets); " + howTo},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.run(t, append(add, tt.args...)...)
				var ue usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v, want a usage error saying %q", err, tt.want)
				}
			})
		}
		st := e.store(t)
		if _, err := st.ShopByKey(context.Background(), "raw"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("a refused shop was stored: %v", err)
		}

		unprefixed := strings.TrimPrefix(acmeSecret, "whsec_")
		if out, err := e.run(t, append(add, "--secret", unprefixed)...); err != nil || !strings.Contains(out, "saved shop raw") {
			t.Fatalf("shops add with a secret without prefix: %q %v", out, err)
		}
		in := e.serve(t)
		key, _ := standard.DecodeSecret(acmeSecret)
		if code := postSigned(t, in.URL+"/webhooks/standard/raw", key, "msg_raw"); code != http.StatusOK {
			t.Fatalf("delivery signed with the base64-decoded key: %d, want 200", code)
		}
		if code := postSigned(t, in.URL+"/webhooks/standard/raw", []byte(unprefixed), "msg_raw_bytes"); code != http.StatusUnauthorized {
			t.Fatalf("delivery signed with the secret's raw bytes: %d, want 401", code)
		}
	})
}

// TestShopsAdd_URLs: shops add checks --url and --notify-url as the
// dispatcher's client will, names the flag, and stores nothing; the config's
// dispatch.allow_hosts permits a host on the operator's own network, but
// never a metadata endpoint.
func TestShopsAdd_URLs(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		// Refusals come before the database is opened; migrate, so that
		// the check below can look.
		if _, err := e.run(t, "migrate"); err != nil {
			t.Fatal(err)
		}
		add := []string{"shops", "add", "--key", "hooked", "--platform", "standard", "--secret", acmeSecret}
		for _, tt := range []struct {
			name string
			args []string
			want string
		}{
			{"ErrMetadata", []string{"--url", "http://169.254.169.254/latest/meta-data/"}, "--url: 169.254.169.254 is a cloud metadata endpoint"},
			{"ErrMetadataName", []string{"--notify-url", "http://metadata.google.internal/computeMetadata/v1/"}, "--notify-url: metadata.google.internal is a cloud metadata endpoint"},
			{"ErrCredentials", []string{"--url", "http://user:pw@127.0.0.1/"}, "--url: http://127.0.0.1/: credentials in the URL (user:password@) are not allowed"},
			{"ErrDecimal", []string{"--notify-url", "http://2130706433/"}, "--notify-url: 2130706433 is not an IP address in canonical form"},
			{"ErrLoopback", []string{"--notify-url", "http://127.0.0.2:9000/hook"}, "--notify-url: 127.0.0.2 is loopback: destination not allowed (a shop on your own network: set dispatch.allow_private, or list the host in dispatch.allow_hosts)"},
			{"ErrScheme", []string{"--url", "file:///etc/passwd"}, "--url: file:///etc/passwd: scheme must be http or https"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.run(t, append(add, tt.args...)...)
				var ue usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v, want a usage error saying %q", err, tt.want)
				}
				if strings.Contains(err.Error(), "pw@") {
					t.Fatalf("the error repeats the password: %v", err)
				}
			})
		}
		if _, err := e.store(t).ShopByKey(context.Background(), "hooked"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("a refused shop was stored: %v", err)
		}

		e.env["TREUE_DISPATCH_ALLOW_HOSTS"] = "127.0.0.0/8,169.254.0.0/16"
		if out, err := e.run(t, append(add, "--notify-url", "http://127.0.0.2:9000/hook")...); err != nil || !strings.Contains(out, "saved shop hooked") {
			t.Fatalf("a loopback URL listed in dispatch.allow_hosts: %q %v", out, err)
		}
		if _, err := e.run(t, append(add, "--notify-url", "http://169.254.169.254/")...); err == nil || !strings.Contains(err.Error(), "--notify-url: 169.254.169.254 is a cloud metadata endpoint") {
			t.Fatalf("a metadata URL inside an allowed CIDR: %v", err)
		}
	})
}

// TestStandard_EmptyStoredSecretRefused: a shop whose stored secret is an
// empty key (as `shops add --secret whsec_` stored before it was refused)
// accepts no delivery, not even one signed with HMAC keyed by "".
func TestStandard_EmptyStoredSecretRefused(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		in := e.serve(t)
		st := e.store(t)
		ctx := context.Background()
		for key, secret := range map[string]string{"empty": "whsec_", "short": "whsec_c2hvcnQ="} {
			sh := &models.Shop{Key: key, Platform: models.PlatformStandard, Source: "cli", Secrets: models.ShopSecrets{Webhook: []string{secret}}}
			if err := st.SaveShop(ctx, sh); err != nil {
				t.Fatal(err)
			}
		}
		for shop, key := range map[string][]byte{"empty": {}, "short": []byte("short")} {
			if code := postSigned(t, in.URL+"/webhooks/standard/"+shop, key, "msg_forged"); code != http.StatusUnauthorized {
				t.Errorf("shop %s: delivery signed with its stored key %q: %d, want 401", shop, key, code)
			}
			sh, err := st.ShopByKey(ctx, shop)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.InboxByDelivery(ctx, sh.ID, "msg_forged"); err == nil {
				t.Errorf("shop %s: the forged delivery was stored", shop)
			}
		}
	})
}

// postSigned posts order.paid signed with key and answers the status.
func postSigned(t *testing.T, url string, key []byte, id string) int {
	t.Helper()
	ts := time.Now().Unix()
	req, _ := http.NewRequest("POST", url, strings.NewReader(paid))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", standard.SignatureHeader(key, id, ts, []byte(paid)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
