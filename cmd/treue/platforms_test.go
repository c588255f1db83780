package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// refresh rewrites a Shopware fixture's envelope for this run: a current
// timestamp (stale ones are refused), our shop id and a fresh event id.
func refresh(t *testing.T, fixture, shopID, eventID string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../plugin/shopware/testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["timestamp"] = time.Now().Unix()
	src := m["source"].(map[string]any)
	src["shopId"], src["eventId"] = shopID, eventID
	out, _ := json.Marshal(m)
	return out
}

func do(t *testing.T, method, u string, h http.Header, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestShopware_EndToEnd: the app handshake over HTTP, a webhook signed with the
// new shop secret landing in the journey, then a rotation with dual
// signatures during which the old secret keeps working.
func TestShopware_EndToEnd(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		const appSecret, appName, shopID, shopURL = "app-secret-for-tests", "TreueLoyalty", "AbC123xyzQ7pL0mN", "https://shop.example"
		e := newEnv(t, driver, "shopware:\n  app_name: "+appName+"\n  app_secret: "+appSecret+"\n")
		cfg := strings.Replace(string(must(os.ReadFile(e.configPath))), "http:\n", "http:\n  public_url: https://treue.example.com\n", 1)
		os.WriteFile(e.configPath, []byte(cfg), 0o600)
		in := e.serve(t)

		register := func(currentSecret string) (string, int) {
			q := "shop-id=" + shopID + "&shop-url=" + shopURL + "&timestamp=" + strconv.FormatInt(time.Now().Unix(), 10)
			h := http.Header{"Shopware-App-Signature": {hmacHex(appSecret, q)}, "Sw-Version": {"6.6.10.0"}}
			if currentSecret != "" {
				h.Set("shopware-shop-signature", hmacHex(currentSecret, q))
			}
			code, b := do(t, "GET", in.URL+"/shopware/register?"+q, h, nil)
			if code != 200 {
				return "", code
			}
			var r struct {
				Proof           string `json:"proof"`
				Secret          string `json:"secret"`
				ConfirmationURL string `json:"confirmation_url"`
			}
			json.Unmarshal(b, &r)
			if r.Proof != hmacHex(appSecret, shopID+shopURL+appName) {
				t.Fatalf("proof %q is wrong", r.Proof)
			}
			if len(r.Secret) < 64 || r.ConfirmationURL != "https://treue.example.com/shopware/confirm" {
				t.Fatalf("registration answer %s", b)
			}
			return r.Secret, code
		}
		confirm := func(secret, previous string) int {
			body := []byte(`{"apiKey":"SWIAEXAMPLE","secretKey":"api-secret","timestamp":"` + strconv.FormatInt(time.Now().Unix(), 10) + `","shopUrl":"https:\/\/shop.example","shopId":"` + shopID + `"}`)
			h := http.Header{"Shopware-Shop-Signature": {hmacHex(secret, string(body))}}
			if previous != "" {
				h.Set("shopware-shop-signature-previous", hmacHex(previous, string(body)))
			}
			code, _ := do(t, "POST", in.URL+"/shopware/confirm", h, body)
			return code
		}
		webhook := func(secret, fixture, eventID string) (int, []byte) {
			body := refresh(t, fixture, shopID, eventID)
			return do(t, "POST", in.URL+"/webhooks/shopware", http.Header{"Shopware-Shop-Signature": {hmacHex(secret, string(body))}, "Content-Type": {"application/json"}}, body)
		}

		if _, code := register(""); code != 200 {
			t.Fatalf("register: %d", code)
		}
		t.Run("ErrWrongAppSignature", func(t *testing.T) {
			q := "shop-id=x&shop-url=https://x&timestamp=" + strconv.FormatInt(time.Now().Unix(), 10)
			if code, _ := do(t, "GET", in.URL+"/shopware/register?"+q, http.Header{"Shopware-App-Signature": {hmacHex("wrong", q)}}, nil); code != 401 {
				t.Fatalf("got %d", code)
			}
		})
		// A shop URL the dispatcher may not call (loopback, without
		// dispatch.allow_private or allow_hosts) is refused at registration.
		t.Run("ErrShopURLOnOurNetwork", func(t *testing.T) {
			q := "shop-id=Other1&shop-url=http://127.0.0.1:8080&timestamp=" + strconv.FormatInt(time.Now().Unix(), 10)
			req, _ := http.NewRequest("GET", in.URL+"/shopware/register?"+q, nil)
			req.Header.Set("Shopware-App-Signature", hmacHex(appSecret, q))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var p struct {
				Type   string `json:"type"`
				Errors []struct{ Field, Message string }
			}
			json.NewDecoder(resp.Body).Decode(&p)
			if resp.StatusCode != 422 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") ||
				len(p.Errors) != 1 || p.Errors[0].Field != "shop-url" || !strings.Contains(p.Errors[0].Message, "loopback") {
				t.Fatalf("got %d %s %+v", resp.StatusCode, resp.Header.Get("Content-Type"), p)
			}
		})
		s1, _ := register("")
		if code := confirm(s1, ""); code != 204 {
			t.Fatalf("confirm: %d", code)
		}
		if code, b := webhook(s1, "order_placed.json", "ev-1"); code != 200 {
			t.Fatalf("webhook: %d %s", code, b)
		}
		if code, b := webhook("not-the-secret", "order_paid.json", "ev-2"); code != 401 {
			t.Fatalf("wrong secret: %d %s", code, b)
		}
		// Rotation: a re-registration must be signed with the current secret too.
		if _, code := register("wrong-current"); code != 401 {
			t.Fatalf("re-registration without the shop signature: %d", code)
		}
		s2, _ := register(s1)
		if code := confirm(s2, s1); code != 204 {
			t.Fatalf("rotation confirm: %d", code)
		}
		if code, b := webhook(s2, "order_paid.json", "ev-2"); code != 200 {
			t.Fatalf("new secret: %d %s", code, b)
		}
		if code, b := webhook(s1, "order_shipped.json", "ev-3"); code != 200 {
			t.Fatalf("old secret within the grace period: %d %s", code, b)
		}
		if code, _ := webhook(s2, "order_paid.json", "ev-2"); code != 200 {
			t.Fatal("redelivery must be acknowledged")
		}

		// The merchant removes the app and installs it again: Shopware keeps
		// the shop id but forgot the secret, so the new registration has no
		// shop signature. The shop and its history stay.
		if code, b := webhook(s2, "app_deleted.json", "ev-del"); code != 200 || !strings.Contains(string(b), `"status":"uninstalled"`) {
			t.Fatalf("app.deleted: %d %s", code, b)
		}
		if code, b := webhook(s2, "order_completed.json", "ev-4"); code != 401 {
			t.Fatalf("webhook signed with the removed app's secret: %d %s", code, b)
		}
		s3, code := register("")
		if code != 200 {
			t.Fatalf("registration after removal: %d", code)
		}
		if code := confirm(s3, ""); code != 204 {
			t.Fatalf("confirmation after removal: %d", code)
		}
		if code, b := webhook(s3, "order_paid.json", "ev-2"); code != 200 || !strings.Contains(string(b), `"status":"duplicate"`) {
			t.Fatalf("redelivery after the reinstall: %d %s, want the stored delivery's duplicate", code, b)
		}
		// A removal Treue missed: the reinstall is refused until an operator
		// does by hand what app.deleted does.
		if _, code := register(""); code != 401 {
			t.Fatalf("registration of a known shop without its signature: %d", code)
		}
		if out, err := e.run(t, "shops", "unregister", "sw-abc123xyzq7pl0mn"); err != nil || !strings.Contains(out, "forgot the app registration") {
			t.Fatalf("shops unregister: %q %v", out, err)
		}
		s4, code := register("")
		if code != 200 || confirm(s4, "") != 204 {
			t.Fatalf("registration after shops unregister: %d", code)
		}

		st := e.store(t)
		ctx := context.Background()
		shop, err := st.ShopByExternalID(ctx, models.PlatformShopware, shopID)
		if err != nil {
			t.Fatal(err)
		}
		if shop.Secrets.APIKey != "SWIAEXAMPLE" || shop.URL != shopURL {
			t.Fatalf("confirmation not stored: %+v", shop.Key)
		}
		waitDrained(t, e)
		journeyTypes(t, st, shop.ID, "order.placed,order.paid,shipment.shipped")
	})
}

// journeyTypes checks that the shop holds exactly one customer journey with these steps.
func journeyTypes(t *testing.T, st *store.Store, shopID int64, want string) {
	t.Helper()
	ctx := context.Background()
	custs, err := st.CustomersAfter(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	n := 0
	for _, c := range custs {
		if c.ShopID != shopID {
			continue
		}
		n++
		evs, _ := st.CustomerEvents(ctx, c.ID)
		for _, ev := range evs {
			types = append(types, ev.Type)
		}
	}
	if n != 1 || strings.Join(types, ",") != want {
		t.Fatalf("%d customers with journey %s, want one with %s", n, strings.Join(types, ","), want)
	}
}

func TestShopify_EndToEnd(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		const secret = "shopify-app-secret"
		e := newEnv(t, driver, "  - key: acme-us\n    platform: shopify\n    domain: kaffee-roesterei.myshopify.com\n    secret: "+secret+"\n")
		in := e.serve(t)
		send := func(topic, fixture, id, sig string) int {
			body := must(os.ReadFile(filepath.Join("../../plugin/shopify/testdata", fixture)))
			if sig == "" {
				m := hmac.New(sha256.New, []byte(secret))
				m.Write(body)
				sig = base64.StdEncoding.EncodeToString(m.Sum(nil))
			}
			code, _ := do(t, "POST", in.URL+"/webhooks/shopify", http.Header{
				"X-Shopify-Topic": {topic}, "X-Shopify-Hmac-Sha256": {sig}, "X-Shopify-Shop-Domain": {"kaffee-roesterei.myshopify.com"},
				"X-Shopify-Webhook-Id": {id}, "X-Shopify-Api-Version": {"2025-07"}, "Content-Type": {"application/json"},
			}, body)
			return code
		}
		// The refund names only the order; it arrives first and waits for it.
		for _, s := range []struct{ topic, fixture, id string }{
			{"refunds/create", "refunds_create.json", "w-3"}, {"orders/create", "orders_create.json", "w-1"}, {"orders/create", "orders_create.json", "w-1"},
		} {
			if code := send(s.topic, s.fixture, s.id, ""); code != 200 {
				t.Fatalf("%s: %d", s.topic, code)
			}
		}
		if code := send("customers/redact", "customers_redact.json", "w-9", "bm9wZQ=="); code != 401 {
			t.Fatalf("compliance topic with a bad HMAC: %d, want 401", code)
		}
		st := e.store(t)
		shop, _ := st.ShopByKey(context.Background(), "acme-us")
		waitFor(t, func() bool {
			n, _, _ := st.InboxBacklog(context.Background())
			return n == 0
		})
		journeyTypes(t, st, shop.ID, "order.placed,refund.issued")
	})
}

func TestAdobe_EndToEnd(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		signer := newAdobeSigner(t, filepath.Base(adobeKeyPath))
		e := newEnv(t, driver, signer.shop(""))
		in := e.serve(t)
		code, b := do(t, "GET", in.URL+"/webhooks/adobe/acme-eu?challenge="+url.QueryEscape("abc-123"), nil, nil)
		if code != 200 || !strings.Contains(string(b), `"challenge":"abc-123"`) {
			t.Fatalf("challenge: %d %s", code, b)
		}
		body := must(os.ReadFile("../../plugin/adobe/testdata/order_new.json"))
		h := signer.headers(t, body, "ev-1")
		for i := 0; i < 2; i++ {
			if code, b := do(t, "POST", in.URL+"/webhooks/adobe/acme-eu", h, body); code != 200 {
				t.Fatalf("delivery %d: %d %s", i, code, b)
			}
		}
		h.Set("X-Adobe-Digital-Signature-1", base64.StdEncoding.EncodeToString(make([]byte, 256)))
		if code, _ := do(t, "POST", in.URL+"/webhooks/adobe/acme-eu", h, body); code != 401 {
			t.Fatalf("bad signature: %d", code)
		}
		st := e.store(t)
		shop, _ := st.ShopByKey(context.Background(), "acme-eu")
		waitDrained(t, e)
		journeyTypes(t, st, shop.ID, "order.placed")
	})
}

// TestAdobe_PublicKeyFileUnderAnyName: a key saved as docs/platforms/adobe.md shows
// (adobe-io-1.pem, not after Adobe's key path) verifies deliveries that name
// /prod/keys/pub-key-<uuid>.pem; a delivery signed with another key is
// refused, and the log line, not the answer, says which key path was asked
// for and which files were tried.
func TestAdobe_PublicKeyFileUnderAnyName(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		stranger, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		const keyPath = "/prod/keys/pub-key-7e2b4c1a-95d3-4f08-b6a1-3c9d2e8f4a70.pem"
		der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		pemFile := filepath.Join(t.TempDir(), "adobe-io-1.pem")
		if err := os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, driver, fmt.Sprintf("  - key: acme-eu\n    platform: adobe\n    client_id: 4b2e8c7d1f0a4e6b9c3d5a7e8f901234\n    public_key_files: [%q]\n", pemFile))
		in := e.serve(t)
		body := must(os.ReadFile("../../plugin/adobe/testdata/order_new.json"))
		signed := func(k *rsa.PrivateKey, eventID string) http.Header {
			sum := sha256.Sum256(body)
			sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
			if err != nil {
				t.Fatal(err)
			}
			return http.Header{"X-Adobe-Digital-Signature-1": {base64.StdEncoding.EncodeToString(sig)}, "X-Adobe-Public-Key1-Path": {keyPath},
				"X-Adobe-Event-Id": {eventID}, "Content-Type": {"application/cloudevents+json"}}
		}
		if code, b := do(t, "POST", in.URL+"/webhooks/adobe/acme-eu", signed(key, "ev-1"), body); code != 200 {
			t.Fatalf("signed with the configured key: %d %s", code, b)
		}
		code, b := do(t, "POST", in.URL+"/webhooks/adobe/acme-eu", signed(stranger, "ev-2"), body)
		if code != 401 {
			t.Fatalf("signed with another key: %d %s", code, b)
		}
		if strings.Contains(string(b), keyPath) || strings.Contains(string(b), pemFile) {
			t.Fatalf("the answer names the key path or the file: %s", b)
		}
		var line string
		for _, l := range strings.Split(in.Logs.String(), "\n") {
			if strings.Contains(l, `"msg":"unauthorized"`) {
				line = l
			}
		}
		if !strings.Contains(line, keyPath) || !strings.Contains(line, pemFile) {
			t.Fatalf("the unauthorized log line does not name the key path %s and the file %s:\n%s", keyPath, pemFile, in.Logs.String())
		}
		if !strings.Contains(in.Logs.String(), "public_key_files only") {
			t.Fatalf("the start-up log does not say that the keys come from files:\n%s", in.Logs.String())
		}
		st := e.store(t)
		shop, _ := st.ShopByKey(context.Background(), "acme-eu")
		waitDrained(t, e)
		journeyTypes(t, st, shop.ID, "order.placed")
	})
}

// adobeKeyPath is the key path the test deliveries name, shaped as Adobe's.
const adobeKeyPath = "/prod/keys/pub-key-0c8cbd4e-7d1b-4a9f-9f5a-1b2c3d4e5f60.pem"

// adobeSigner signs deliveries as Adobe I/O does; its public key is in
// file, for an Adobe shop's public_key_files.
type adobeSigner struct {
	key  *rsa.PrivateKey
	file string
}

// newAdobeSigner makes a key and saves its public half as fileName.
func newAdobeSigner(t *testing.T, fileName string) *adobeSigner {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	file := filepath.Join(t.TempDir(), fileName)
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &adobeSigner{key: key, file: file}
}

// shop is the shops: entry of Adobe shop acme-eu that trusts the signer;
// extra lines (indented by four) go with it.
func (s *adobeSigner) shop(extra string) string {
	return fmt.Sprintf("  - key: acme-eu\n    platform: adobe\n%s    client_id: 4b2e8c7d1f0a4e6b9c3d5a7e8f901234\n    public_key_files: [%q]\n", extra, s.file)
}

// headers are the headers of body signed as event eventID.
func (s *adobeSigner) headers(t *testing.T, body []byte, eventID string) http.Header {
	t.Helper()
	sum := sha256.Sum256(body)
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"X-Adobe-Digital-Signature-1": {base64.StdEncoding.EncodeToString(sig)}, "X-Adobe-Public-Key1-Path": {adobeKeyPath},
		"X-Adobe-Event-Id": {eventID}, "Content-Type": {"application/cloudevents+json"}}
}

func readFixture(platform, name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("../../plugin", platform, "testdata", name))
}

func shopifySig(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
