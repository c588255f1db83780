package magento_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
)

// mustPHP returns the php command, skipping the test where PHP is not
// installed. CI installs php-cli, so there these tests always run.
func mustPHP(t *testing.T) string {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php is not on PATH: install php-cli to run the Magento module's contract tests")
	}
	return php
}

func runPHP(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(mustPHP(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("php %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// signWithPHP signs body with Model/Signer.php and returns the headers it prints.
func signWithPHP(t *testing.T, secret, id string, ts int64, body []byte) map[string]string {
	t.Helper()
	bodyFile := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		t.Fatal(err)
	}
	out := runPHP(t, filepath.Join("tests", "sign_fixture.php"), secret, id, strconv.FormatInt(ts, 10), bodyFile)
	var h map[string]string
	if err := json.Unmarshal(out, &h); err != nil {
		t.Fatalf("sign_fixture.php printed %q: %v", out, err)
	}
	return h
}

// verifyStandardWebhook is a deliberately small Standard Webhooks v1 verifier,
// written from the spec to check the PHP signer from outside: whsec_ secret,
// signed content id.timestamp.body, a space-separated list of "v1,<base64>"
// entries, ±5 minutes of clock tolerance. Treue's full receiver is
// plugin/standard; this test can call it instead once it exists.
// verifyStandardWebhook runs Treue's own Standard Webhooks verifier on what
// the PHP module produced: if either side drifts, this breaks.
func verifyStandardWebhook(secret string, h map[string]string, body []byte, now time.Time) error {
	hdr := http.Header{}
	for k, v := range h {
		hdr.Set(k, v)
	}
	shop := &models.Shop{Platform: models.PlatformStandard, Secrets: models.ShopSecrets{Webhook: []string{secret}}}
	return standard.New(5*time.Minute).Verify(context.Background(), &plugin.Delivery{Header: hdr, Body: body}, shop, now)
}

// TestSigner_SpecVector pins the PHP signer to the test vector published with
// the Standard Webhooks specification.
func TestSigner_SpecVector(t *testing.T) {
	h := signWithPHP(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	want := map[string]string{
		"webhook-id":        "msg_p5jXN8AQM9LWM0D4loKWxJek",
		"webhook-timestamp": "1614265330",
		"webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Fatalf("headers mismatch (-want +got):\n%s", diff)
	}
}

// TestSigner_Contract signs a real outbox body in PHP and verifies it in Go.
func TestSigner_Contract(t *testing.T) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	// Non-ASCII text and slashes: the signature must cover the exact bytes.
	body := []byte(`{"type":"order.placed","timestamp":"2026-03-02T09:14:05Z","data":{"customer":{"email":"jörg@example.com"},"order":{"id":"1042","items":[{"sku":"A/B","quantity":1}]}}}` + "\n")
	now := time.Now()
	id := "5f0c7d1e-8a2b-4c3d-9e4f-a0b1c2d3e4f5"
	h := signWithPHP(t, secret, id, now.Unix(), body)

	if err := verifyStandardWebhook(secret, h, body, now); err != nil {
		t.Fatalf("Go rejects the PHP signature: %v (headers %v)", err, h)
	}
	if h["webhook-id"] != id || h["webhook-timestamp"] != strconv.FormatInt(now.Unix(), 10) {
		t.Fatalf("headers = %v", h)
	}
	// The verifier must not accept everything.
	tampered := bytes.Replace(body, []byte("1042"), []byte("1043"), 1)
	if verifyStandardWebhook(secret, h, tampered, now) == nil {
		t.Fatal("verifier accepted a tampered body")
	}
	if verifyStandardWebhook("whsec_"+base64.StdEncoding.EncodeToString(make([]byte, 32)), h, body, now) == nil {
		t.Fatal("verifier accepted a wrong secret")
	}
	if verifyStandardWebhook(secret, h, body, now.Add(10*time.Minute)) == nil {
		t.Fatal("verifier accepted a stale timestamp")
	}
}

func TestSigner_RejectsBadInput(t *testing.T) {
	php := mustPHP(t)
	bodyFile := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(bodyFile, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"ShortSecret": {"whsec_c2hvcnQ=", "msg_1", "1614265330", bodyFile},
		"NotBase64":   {"whsec_***", "msg_1", "1614265330", bodyFile},
		"DotInID":     {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg.1", "1614265330", bodyFile},
		"BadTime":     {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_1", "yesterday", bodyFile},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(php, append([]string{filepath.Join("tests", "sign_fixture.php")}, args...)...)
			if out, err := cmd.Output(); err == nil {
				t.Fatalf("sign_fixture.php succeeded: %s", out)
			}
		})
	}
}

// TestEventMapper_Contract checks that what the module writes to its outbox
// decodes into models.Event, field for field, and passes Treue's validation.
func TestEventMapper_Contract(t *testing.T) {
	out := runPHP(t, filepath.Join("tests", "map_fixture.php"))
	var got []models.Event
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var e models.Event
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", e.Type, err)
		}
		got = append(got, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	ptr := func(s string) *time.Time { tm := at(s); return &tm }
	anna := models.CustomerRef{ID: "77", Email: "anna.beispiel@example.com", FirstName: "Anna", LastName: "Beispiel", Birthday: "1990-05-01"}
	items := []models.LineItem{
		{SKU: "ESP-500", ProductID: "14", Name: "Espresso Bohnen 500 g", Quantity: 2, UnitPrice: "14.95"},
		{SKU: "MUG-BLUE", ProductID: "31", Name: "Tasse", Quantity: 1, UnitPrice: "29.90"},
	}
	order := &models.Order{ID: "1042", Number: "000001042", PlacedAt: ptr("2026-03-02T09:14:05Z"), Currency: "EUR", Total: "59.80", Items: items, Coupon: "WELCOME10"}
	paidOrder := *order
	paidOrder.PaidAt = ptr("2026-03-02T09:20:01Z")
	guest := models.EventData{
		Customer: models.CustomerRef{Email: "jon@example.com"},
		Order:    &models.Order{ID: "1043", Number: "000001043", PlacedAt: ptr("2026-03-02T09:20:00Z"), Currency: "USD", Total: "243.00"},
	}
	ref := &models.Order{ID: "1042", Number: "000001042"}
	want := []models.Event{
		{Type: models.OrderPlaced, Timestamp: at("2026-03-02T09:14:05Z"), Data: models.EventData{Customer: anna, Order: order}},
		// The guest order had no created_at yet: the mapper's clock stands in.
		{Type: models.OrderPlaced, Timestamp: at("2026-03-02T09:20:00Z"), Data: guest},
		{Type: models.OrderCancelled, Timestamp: at("2026-03-03T16:30:10Z"), Data: guest},
		{Type: models.OrderPaid, Timestamp: at("2026-03-02T09:20:01Z"), Data: models.EventData{Customer: anna, Order: &paidOrder}},
		{Type: models.ShipmentShipped, Timestamp: at("2026-03-03T15:40:19Z"), Data: models.EventData{Customer: anna, Order: ref,
			Shipment: &models.Shipment{ID: "611", Carrier: "DHL Paket", Tracking: "00340434161094042557", ShippedAt: ptr("2026-03-03T15:40:19Z")}}},
		{Type: models.RefundIssued, Timestamp: at("2026-03-09T07:02:10Z"), Data: models.EventData{Customer: anna, Order: ref,
			Refund: &models.Refund{ID: "88", Amount: "14.95", Currency: "EUR", IssuedAt: ptr("2026-03-09T07:02:10Z"),
				Items: []models.LineItem{{SKU: "ESP-500", ProductID: "14", Name: "Espresso Bohnen 500 g", Quantity: 1, UnitPrice: "14.95"}}}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}

// TestPHPSyntax runs php -l on every PHP file of the module.
func TestPHPSyntax(t *testing.T) {
	php := mustPHP(t)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".php" {
			return err
		}
		if out, err := exec.Command(php, "-l", path).CombinedOutput(); err != nil {
			t.Errorf("php -l %s: %v\n%s", path, err, out)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBackoff_Schedule checks the retry schedule of Model/Backoff.php: doubling
// from one minute, capped at six hours, with at most 20 % jitter on top.
func TestBackoff_Schedule(t *testing.T) {
	const script = `require 'Model/Backoff.php';
foreach ([0, 1, 2, 3, 9, 10, 11, 64, PHP_INT_MAX] as $n) {
    echo Treue\Loyalty\Model\Backoff::delay($n, fn ($lo, $hi) => $lo), ' ',
         Treue\Loyalty\Model\Backoff::delay($n, fn ($lo, $hi) => $hi), "\n";
}`
	out := strings.TrimSpace(string(runPHP(t, "-r", script)))
	want := strings.Join([]string{
		"60 72", "60 72", "120 144", "240 288", "15360 18432",
		"21600 25920", "21600 25920", "21600 25920", "21600 25920",
	}, "\n")
	if out != want {
		t.Fatalf("schedule:\n%s\nwant:\n%s", out, want)
	}
}
