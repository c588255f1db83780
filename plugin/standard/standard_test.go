package standard

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// signed builds a delivery the way a Standard Webhooks sender does.
func signed(tb testing.TB, secret, id string, ts time.Time, body []byte) *plugin.Delivery {
	key, err := DecodeSecret(secret)
	if err != nil {
		tb.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", SignatureHeader(key, id, ts.Unix(), body))
	return &plugin.Delivery{Header: h, Body: body, ShopKey: "acme"}
}

func shop(secrets ...string) *models.Shop {
	return &models.Shop{Key: "acme", Platform: models.PlatformStandard, Secrets: models.ShopSecrets{Webhook: secrets}}
}

func TestReceiver_Verify(t *testing.T) {
	now := time.Unix(1_762_074_900, 0)
	body := fixture(t, "order.placed.json")
	r := New(5 * time.Minute)
	t.Run("OK", func(t *testing.T) {
		if err := r.Verify(context.Background(), signed(t, testSecret, "msg_1", now, body), shop(testSecret), now); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKAnyOfList", func(t *testing.T) {
		d := signed(t, testSecret, "msg_1", now, body)
		d.Header.Set("webhook-signature", "v1,bm9wZQ== v1a,abc "+d.Header.Get("webhook-signature"))
		if err := r.Verify(context.Background(), d, shop(testSecret), now); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKRotation", func(t *testing.T) {
		old := "whsec_" + base64.StdEncoding.EncodeToString([]byte("an-old-secret-of-24-bytes!"))
		if err := r.Verify(context.Background(), signed(t, old, "msg_1", now, body), shop(testSecret, old), now); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKSvixHeaders", func(t *testing.T) {
		d := signed(t, testSecret, "msg_1", now, body)
		for _, n := range []string{"id", "timestamp", "signature"} {
			d.Header.Set("svix-"+n, d.Header.Get("webhook-"+n))
			d.Header.Del("webhook-" + n)
		}
		if err := r.Verify(context.Background(), d, shop(testSecret), now); err != nil {
			t.Fatal(err)
		}
	})
	bad := []struct {
		name string
		mod  func(d *plugin.Delivery)
		now  time.Time
	}{
		{"ErrWrongSignature", func(d *plugin.Delivery) {
			d.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32)))
		}, now},
		{"ErrMissingSignature", func(d *plugin.Delivery) { d.Header.Del("webhook-signature") }, now},
		{"ErrTamperedBody", func(d *plugin.Delivery) { d.Body = append([]byte(" "), d.Body...) }, now},
		{"ErrOtherID", func(d *plugin.Delivery) { d.Header.Set("webhook-id", "msg_2") }, now},
		{"ErrStale", func(*plugin.Delivery) {}, now.Add(6 * time.Minute)},
		{"ErrFuture", func(*plugin.Delivery) {}, now.Add(-6 * time.Minute)},
		{"ErrTimestampNotNumber", func(d *plugin.Delivery) { d.Header.Set("webhook-timestamp", "yesterday") }, now},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			d := signed(t, testSecret, "msg_1", now, body)
			tt.mod(d)
			if err := r.Verify(context.Background(), d, shop(testSecret), tt.now); !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("got %v, want ErrUnauthorized", err)
			}
		})
	}
	t.Run("ErrWrongSecret", func(t *testing.T) {
		other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-secret-of-24-byte"))
		if err := r.Verify(context.Background(), signed(t, testSecret, "msg_1", now, body), shop(other), now); !errors.Is(err, models.ErrUnauthorized) {
			t.Fatalf("got %v", err)
		}
	})
}

// The test vector published with the Standard Webhooks specification.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// TestReceiver_VerifySpecVector: the prefix is optional, and the rest is
// base64 either way, as in the reference libraries.
func TestReceiver_VerifySpecVector(t *testing.T) {
	h := http.Header{}
	h.Set("webhook-id", specID)
	h.Set("webhook-timestamp", strconv.Itoa(specTimestamp))
	h.Set("webhook-signature", specSignature)
	d := &plugin.Delivery{Header: h, Body: []byte(specBody), ShopKey: "acme"}
	now := time.Unix(specTimestamp, 0)
	for _, secret := range []string{specSecret, strings.TrimPrefix(specSecret, "whsec_")} {
		if err := New(0).Verify(context.Background(), d, shop(secret), now); err != nil {
			t.Errorf("secret %q: %v", secret, err)
		}
		key, err := DecodeSecret(secret)
		if err != nil {
			t.Fatal(err)
		}
		if got := SignatureHeader(key, specID, specTimestamp, []byte(specBody)); got != specSignature {
			t.Errorf("secret %q signs %s, want %s", secret, got, specSignature)
		}
	}
}

// TestReceiver_VerifyRefusesUnusableSecrets: whatever the store holds, a key
// that is empty, short or not base64 verifies nothing, though the delivery is
// signed with exactly that key.
func TestReceiver_VerifyRefusesUnusableSecrets(t *testing.T) {
	now := time.Unix(1_762_074_900, 0)
	body := fixture(t, "order.placed.json")
	r := New(5 * time.Minute)
	signedWith := func(key []byte) *plugin.Delivery {
		h := http.Header{}
		h.Set("webhook-id", "msg_1")
		h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		h.Set("webhook-signature", SignatureHeader(key, "msg_1", now.Unix(), body))
		return &plugin.Delivery{Header: h, Body: body, ShopKey: "acme"}
	}
	for _, tt := range []struct {
		name, stored string
		key          []byte // what a forger signs with
	}{
		{"ErrEmptyAfterPrefix", "whsec_", []byte("")},
		{"ErrEmpty", "", []byte("")},
		{"ErrShort", "whsec_c2hvcnQ=", []byte("short")},
		{"ErrRawNotBase64", "an-old-raw-secret-of-24-bytes", []byte("an-old-raw-secret-of-24-bytes")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.Verify(context.Background(), signedWith(tt.key), shop(tt.stored), now); !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("got %v, want ErrUnauthorized", err)
			}
		})
	}
	t.Run("ErrNoSecrets", func(t *testing.T) {
		if err := r.Verify(context.Background(), signedWith(nil), shop(), now); !errors.Is(err, models.ErrUnauthorized) {
			t.Fatalf("got %v, want ErrUnauthorized", err)
		}
	})
	t.Run("OKUnusableSkipped", func(t *testing.T) {
		if err := r.Verify(context.Background(), signed(t, testSecret, "msg_1", now, body), shop("whsec_", testSecret), now); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDecodeSecret(t *testing.T) {
	want, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	for _, s := range []string{specSecret, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		got, err := DecodeSecret(s)
		if err != nil || string(got) != string(want) {
			t.Errorf("DecodeSecret(%q) = %x, %v; want %x", s, got, err, want)
		}
	}
	for _, n := range []int{MinKeyBytes, MaxKeyBytes} {
		if _, err := DecodeSecret("whsec_" + base64.StdEncoding.EncodeToString(make([]byte, n))); err != nil {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
	for secret, msg := range map[string]string{
		"":               "is empty",
		"whsec_":         "is empty",
		"whsec_c2hvcnQ=": "decodes to 5 bytes, not 24 to 64",
		"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23)): "decodes to 23 bytes",
		base64.StdEncoding.EncodeToString(make([]byte, 65)):            "decodes to 65 bytes",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La_aSw":                       "is not base64",
		"a-raw-secret-that-is-long-enough":                             "is not base64",
	} {
		_, err := DecodeSecret(secret)
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.HasSuffix(err.Error(), SecretFormat) {
			t.Errorf("DecodeSecret(%q) = %v, want an error saying %q and how to make a secret", secret, err, msg)
		}
		if err != nil && len(secret) > len("whsec_") && strings.Contains(err.Error(), strings.TrimPrefix(secret, "whsec_")) {
			t.Errorf("error contains the secret: %v", err)
		}
	}
}

func TestReceiver_Parse(t *testing.T) {
	r := New(0)
	for _, name := range []string{"order.placed.json", "order.paid.json", "shipment.shipped.json", "shipment.delivered.json", "return.received.json", "consent.granted.json"} {
		t.Run(name, func(t *testing.T) {
			p, err := r.Parse(signed(t, testSecret, "msg_"+name, time.Now(), fixture(t, name)))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Events) != 1 || string(p.Events[0].Type)+".json" != name || p.DeliveryID != "msg_"+name {
				t.Fatalf("parsed %+v", p)
			}
		})
	}
	t.Run("PlacedContents", func(t *testing.T) {
		p, _ := r.Parse(signed(t, testSecret, "m", time.Now(), fixture(t, "order.placed.json")))
		o := p.Events[0].Data.Order
		if o.Total != "59.80" || len(o.Items) != 2 || o.Items[0].Quantity != 2 || o.Items[0].UnitPrice != "14.90" {
			t.Fatalf("order %+v", o)
		}
		if got := p.Events[0].OccurredAt(); !got.Equal(time.Date(2026, 11, 2, 9, 14, 31, 0, time.UTC)) {
			t.Fatalf("occurred at %v, want placed_at", got)
		}
	})
	t.Run("UnknownTypeIgnored", func(t *testing.T) {
		p, err := r.Parse(signed(t, testSecret, "m", time.Now(), []byte(`{"type":"cart.abandoned","timestamp":"2026-11-02T09:15:00Z","data":{}}`)))
		if err != nil || len(p.Events) != 0 || p.Topic != "cart.abandoned" {
			t.Fatalf("%+v %v", p, err)
		}
	})
	invalid := []struct {
		name, body, field string
		malformed         bool
	}{
		{"ErrBrokenJSON", `{"type":`, "", true},
		{"ErrNotObject", `[1,2]`, "", true},
		{"ErrMissingOrder", `{"type":"order.paid","timestamp":"2026-11-02T09:15:00Z","data":{"customer":{"id":"c"}}}`, "data.order.id", false},
		{"ErrNoCustomer", `{"type":"order.paid","timestamp":"2026-11-02T09:15:00Z","data":{"order":{"id":"o"}}}`, "data.customer", false},
		{"ErrMissingTimestamp", `{"type":"order.paid","data":{"customer":{"id":"c"},"order":{"id":"o"}}}`, "timestamp", false},
		{"ErrBadTime", `{"type":"order.paid","timestamp":"yesterday","data":{"customer":{"id":"c"},"order":{"id":"o"}}}`, "(time)", false},
		{"ErrQuantityType", `{"type":"order.placed","timestamp":"2026-11-02T09:15:00Z","data":{"customer":{"id":"c"},"order":{"id":"o","items":[{"sku":"x","quantity":"two"}]}}}`, "data.order.items[0].quantity", false},
		{"ErrMoneyAsNumber", `{"type":"order.placed","timestamp":"2026-11-02T09:15:00Z","data":{"customer":{"id":"c"},"order":{"id":"o","total":59.8}}}`, "data.order.total", false},
		{"ErrBadMoney", `{"type":"order.placed","timestamp":"2026-11-02T09:15:00Z","data":{"customer":{"id":"c"},"order":{"id":"o","total":"59,80"}}}`, "data.order.total", false},
		{"ErrMissingType", `{"timestamp":"2026-11-02T09:15:00Z","data":{"customer":{"id":"c"}}}`, "type", false},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Parse(signed(t, testSecret, "m", time.Now(), []byte(tt.body)))
			var me *models.MalformedError
			var ve *models.ValidationError
			switch {
			case tt.malformed:
				if !errors.As(err, &me) {
					t.Fatalf("got %v, want MalformedError", err)
				}
			case !errors.As(err, &ve):
				t.Fatalf("got %v, want ValidationError", err)
			case ve.Fields[0].Field != tt.field:
				t.Fatalf("field %q, want %q (%v)", ve.Fields[0].Field, tt.field, err)
			}
		})
	}
	t.Run("ErrMissingID", func(t *testing.T) {
		d := signed(t, testSecret, "m", time.Now(), fixture(t, "order.paid.json"))
		d.Header.Del("webhook-id")
		if _, err := r.Parse(d); !errors.Is(err, models.ErrInvalid) {
			t.Fatalf("got %v", err)
		}
	})
}

func FuzzParse(f *testing.F) {
	entries, _ := os.ReadDir("testdata")
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			f.Add(fixture(f, e.Name()))
		}
	}
	f.Add([]byte(`{"type":"order.paid","timestamp":"x"}`))
	r := New(0)
	f.Fuzz(func(t *testing.T, body []byte) {
		h := http.Header{}
		h.Set("webhook-id", "m")
		p, err := r.Parse(&plugin.Delivery{Header: h, Body: body})
		if err == nil {
			for _, e := range p.Events {
				if e.Validate() != nil {
					t.Fatalf("Parse returned an invalid event: %+v", e)
				}
			}
		} else if !errors.Is(err, models.ErrInvalid) {
			t.Fatalf("error %v does not match ErrInvalid", err)
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add("msg_1", "1762074900", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=", []byte(`{}`))
	f.Add("", "", "", []byte(nil))
	f.Add("a.b", "-1", "v1, v1,,", []byte("x"))
	r := New(0)
	now := time.Unix(1_762_074_900, 0)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", sig)
		err := r.Verify(context.Background(), &plugin.Delivery{Header: h, Body: body}, shop(testSecret), now)
		if err != nil && !errors.Is(err, models.ErrUnauthorized) {
			t.Fatalf("error %v does not match ErrUnauthorized", err)
		}
		// A random signature verifying would mean the check is broken.
		if err == nil && sig != SignatureHeader(mustKey(t), id, now.Unix(), body) && !strings.Contains(sig, SignatureHeader(mustKey(t), id, mustInt(ts), body)) {
			t.Fatalf("accepted a signature that is not the right one: %q", sig)
		}
	})
}

func mustKey(t *testing.T) []byte {
	k, err := DecodeSecret(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustInt(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
