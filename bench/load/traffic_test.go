package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/shopware"
	"github.com/treue/treue/plugin/standard"
)

// Every generated delivery verifies and parses with Treue's own receivers,
// and records exactly the step key the checks expect.
func TestTraffic_ParsesAndStepKeys(t *testing.T) {
	mix, err := parseMix("standard=1,shopware=1")
	if err != nil {
		t.Fatal(err)
	}
	shops := makeShops(2, mix, 7)
	dir, err := fixtureDir("")
	if err != nil {
		t.Fatal(err)
	}
	tr := &traffic{run: "rtest", now: time.Now().UTC(), oooRate: 0.3, returnRate: 0.5}
	if tr.sw, err = loadShopwareTemplates(dir); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	receivers := map[string]plugin.Receiver{"standard": standard.New(time.Minute), "shopware": shopware.New(time.Minute)}
	topics := map[string]bool{}
	for _, s := range shops {
		ms := &models.Shop{Key: s.Key, Platform: models.Platform(s.Platform), ExternalID: s.ShopwareID}
		ms.Secrets.Webhook = []string{s.Secret}
		for n := 1; n <= 20; n++ {
			c := newCustomer(tr, s, n, 7)
			for range 12 {
				st := tr.next(c)
				st.attempted = true
				topics[st.topic] = true
				d := &plugin.Delivery{Header: http.Header{}, ShopKey: s.Key}
				if st.tmpl != nil {
					d.Body = st.tmpl.render(nil, st, now)
					d.Header.Set("shopware-shop-signature", hmacHex(s.hmacKey, d.Body))
				} else {
					d.Body = st.body
					d.Header.Set("webhook-id", st.deliveryID)
					d.Header.Set("webhook-timestamp", itoa(now.Unix()))
					d.Header.Set("webhook-signature", standard.SignatureHeader(s.hmacKey, st.deliveryID, now.Unix(), st.body))
				}
				r := receivers[s.Platform]
				ref, err := r.Identify(d)
				if err != nil {
					t.Fatalf("%s %s: identify: %v", s.Key, st.topic, err)
				}
				if ref.ExternalID != "" && ref.ExternalID != s.ShopwareID {
					t.Fatalf("%s: identified as %q", st.topic, ref.ExternalID)
				}
				if err := r.Verify(context.Background(), d, ms, now); err != nil {
					t.Fatalf("%s %s: verify: %v", s.Key, st.topic, err)
				}
				p, err := r.Parse(d)
				if err != nil {
					t.Fatalf("%s %s: parse: %v\n%s", s.Key, st.topic, err, d.Body)
				}
				if p.DeliveryID != st.deliveryID || len(p.Events) != 1 {
					t.Fatalf("%s: delivery %q with %d events, want %q with 1", st.topic, p.DeliveryID, len(p.Events), st.deliveryID)
				}
				e := p.Events[0]
				if got := e.StepKey(); got != st.stepKey {
					t.Fatalf("%s: step key %q, want %q", st.topic, got, st.stepKey)
				}
				if !strings.Contains(st.stepKey, "rtest-") {
					t.Fatalf("step key %q does not carry the run id", st.stepKey)
				}
				c2 := e.Data.Customer
				if c2.ID != c.id && c2.Number != c.id {
					t.Fatalf("%s: customer %+v, want %s", st.topic, c2, c.id)
				}
				st.acked = true
				tr.afterAck(c, st)
			}
		}
	}
	for _, want := range []string{"order.placed", "shipment.delivered", "refund.issued", "checkout.order.placed", "state_enter.order_transaction.state.refunded"} {
		if !topics[want] {
			t.Errorf("no %s delivery generated", want)
		}
	}
}

func TestMakeShops_Mix(t *testing.T) {
	for _, tt := range []struct {
		mix  string
		n    int
		want string
	}{
		{"standard=3,shopware=1", 4, "standard standard standard shopware"},
		{"standard", 3, "standard standard standard"},
		{"shopware", 2, "shopware shopware"},
		{"standard=1,shopware=1", 1, "standard"},
		{"standard=9,shopware=1", 2, "standard shopware"},
	} {
		mix, err := parseMix(tt.mix)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range makeShops(tt.n, mix, 1) {
			got = append(got, s.Platform)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s × %d: %v, want %s", tt.mix, tt.n, got, tt.want)
		}
	}
	a, b := makeShops(2, map[string]float64{"standard": 1}, 1), makeShops(2, map[string]float64{"standard": 1}, 1)
	if a[0].Secret != b[0].Secret || a[0].Secret == a[1].Secret {
		t.Fatal("secrets must be deterministic per seed and differ per shop")
	}
	var buf bytes.Buffer
	if err := printConfig(&buf, a, configOptions{Addr: ":1", Driver: "sqlite", DSN: "x.db", Rules: "r.yaml", Level: "warn", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), a[1].Secret) {
		t.Fatal("config lacks the shop secret")
	}
}

func TestHistQuantile(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(`# HELP x
treue_inbox_lag_seconds_bucket{le="0.1"} 50
treue_inbox_lag_seconds_bucket{le="1"} 98
treue_inbox_lag_seconds_bucket{le="2"} 100
treue_inbox_lag_seconds_bucket{le="+Inf"} 100
process_resident_memory_bytes 2.097152e+07
`))
	if err != nil {
		t.Fatal(err)
	}
	if q := m.histQuantile("treue_inbox_lag_seconds", 0.99); q != 2 {
		t.Fatalf("p99 = %v, want 2", q)
	}
	if v := m.value("process_resident_memory_bytes"); v != 20971520 {
		t.Fatalf("rss = %v", v)
	}
}

func hmacHex(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
