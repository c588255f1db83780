package adobe

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

const (
	testClientID = "4b2e8c7d1f0a4e6b9c3d5a7e8f901234"
	testKeyPath1 = "/prod/keys/pub-key-0c8cbd4e-7d1b-4a9f-9f5a-1b2c3d4e5f60.pem"
	testKeyPath2 = "/prod/keys/pub-key-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d.pem"
)

// The signing keys are made per test run; no private key is committed.
var testKey1, testKey2 = mustRSAKey(2048), mustRSAKey(2048)

func mustRSAKey(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func signBody(k *rsa.PrivateKey, body []byte) string {
	digest := sha256.Sum256(body)
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:])
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// fakeKeys is a KeySource over a fixed map, with an injectable error.
type fakeKeys struct {
	keys  map[string]*rsa.PublicKey
	err   error
	calls int
}

func (f *fakeKeys) PublicKeys(_ context.Context, p string) ([]PublicKey, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	k, ok := f.keys[p]
	if !ok {
		return nil, fmt.Errorf("fake: no key %q: %w", p, models.ErrUnauthorized)
	}
	return []PublicKey{{Key: k, Origin: "fake:" + p}}, nil
}

func newFakeKeys() *fakeKeys {
	return &fakeKeys{keys: map[string]*rsa.PublicKey{testKeyPath1: &testKey1.PublicKey, testKeyPath2: &testKey2.PublicKey}}
}

func mustReadFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// signedDelivery builds a delivery as I/O Events sends it, signed with both keys.
func signedDelivery(body []byte) *plugin.Delivery {
	h := http.Header{}
	h.Set("x-adobe-event-id", "hdr-5e0b9b9c-1f0f-4b1a-9a0e-0d1c2b3a4f5e")
	h.Set("x-adobe-delivery-id", "c3f1c2a0-0000-4000-8000-000000000001")
	h.Set("x-adobe-event-code", "com.adobe.commerce.observer.sales_order_save_commit_after")
	h.Set("x-adobe-digital-signature-1", signBody(testKey1, body))
	h.Set("x-adobe-digital-signature-2", signBody(testKey2, body))
	h.Set("x-adobe-public-key1-path", testKeyPath1)
	h.Set("x-adobe-public-key2-path", testKeyPath2)
	h.Set("user-agent", "Adobe/1.0")
	return &plugin.Delivery{Header: h, Body: body, ShopKey: "roesterei"}
}

func testShop() *models.Shop {
	return &models.Shop{Key: "roesterei", Platform: models.PlatformAdobe, ExternalID: testClientID}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func tp(s string) *time.Time { t := ts(s); return &t }

func TestChallenge(t *testing.T) {
	tests := []struct {
		query string
		want  string
		err   string // what the error says; "" for none
	}{
		{"challenge=8ec8d794-e0ab-42df-9017-e3dada8e84f7", "8ec8d794-e0ab-42df-9017-e3dada8e84f7", ""},
		{"foo=1&challenge=abc_DEF.1", "abc_DEF.1", ""},
		{"", "", "the query parameter challenge is required"},
		{"challenge=", "", "the query parameter challenge is required"},
		{"challenge=%3Cscript%3E", "", `challenge has '<' at byte 1; only letters, digits, '-', '_' and '.' are accepted`},
		{"challenge=abc%20def", "", `challenge has ' ' at byte 4; only letters`},
		{"challenge=abc%00", "", `challenge has '\x00' at byte 4`},
		{"challenge=caf%C3%A9", "", `challenge has 'é' at byte 4`},
		{"challenge=" + strings.Repeat("a", 129), "", "challenge is 129 bytes long; at most 128 are accepted"},
		{"challenge=%zz", "", "the query string is not valid URL encoding"},
	}
	for _, tt := range tests {
		got, err := Challenge(tt.query)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("Challenge(%q) = %q, %v; want %q", tt.query, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || got != ""):
			t.Errorf("Challenge(%q) = %q, %v; want an error saying %q", tt.query, got, err, tt.err)
		}
	}
	if got, err := New(nil).Challenge("challenge=x1"); got != "x1" || err != nil {
		t.Errorf("Receiver.Challenge = %q, %v", got, err)
	}
}

func TestReceiver_Identify(t *testing.T) {
	got, err := New(nil).Identify(&plugin.Delivery{ShopKey: "roesterei"})
	if err != nil || got != (plugin.ShopRef{Key: "roesterei"}) {
		t.Fatalf("Identify = %+v, %v", got, err)
	}
	if _, err := New(nil).Identify(&plugin.Delivery{}); !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("Identify without shop key = %v, want ErrUnauthorized", err)
	}
}

func TestReceiver_Verify(t *testing.T) {
	body := mustReadFixture(t, "order_new.json")
	other := mustRSAKey(2048)
	tests := []struct {
		name        string
		body        []byte
		shop        *models.Shop
		noShop      bool
		keys        *fakeKeys
		mutate      func(d *plugin.Delivery)
		ok          bool
		unavailable bool
	}{
		{name: "OKBothSignatures", ok: true},
		{name: "OKOnlyFirstValid", ok: true, mutate: func(d *plugin.Delivery) {
			d.Header.Set("x-adobe-digital-signature-2", signBody(other, d.Body))
		}},
		{name: "OKOnlySecondValid", ok: true, mutate: func(d *plugin.Delivery) {
			d.Header.Set("x-adobe-digital-signature-1", "bm90IGEgc2lnbmF0dXJl")
		}},
		{name: "OKFirstKeyUnknownSecondValid", ok: true, mutate: func(d *plugin.Delivery) {
			d.Header.Set("x-adobe-public-key1-path", "/prod/keys/pub-key-unknown.pem")
		}},
		{name: "OKSecondHeadersOnly", ok: true, mutate: func(d *plugin.Delivery) {
			d.Header.Del("x-adobe-digital-signature-1")
			d.Header.Del("x-adobe-public-key1-path")
		}},
		{name: "OKLegacyRecipientField", ok: true,
			body: []byte(`{"id":"1","type":"x","recipient_client_id":"` + testClientID + `"}`)},
		{name: "OKBatch", ok: true, body: mustReadFixture(t, "batch.json")},
		{name: "ErrBothSignaturesWrong", mutate: func(d *plugin.Delivery) {
			d.Header.Set("x-adobe-digital-signature-1", signBody(other, d.Body))
			d.Header.Set("x-adobe-digital-signature-2", signBody(other, d.Body))
		}},
		{name: "ErrSignaturesSwapped", mutate: func(d *plugin.Delivery) {
			s1, s2 := d.Header.Get("x-adobe-digital-signature-1"), d.Header.Get("x-adobe-digital-signature-2")
			d.Header.Set("x-adobe-digital-signature-1", s2)
			d.Header.Set("x-adobe-digital-signature-2", s1)
		}},
		{name: "ErrTamperedBody", mutate: func(d *plugin.Delivery) {
			d.Body = []byte(strings.Replace(string(d.Body), `"59.8000"`, `"0.0100"`, 1))
		}},
		{name: "ErrNoSignatureHeaders", mutate: func(d *plugin.Delivery) {
			for _, h := range []string{"x-adobe-digital-signature-1", "x-adobe-digital-signature-2"} {
				d.Header.Del(h)
			}
		}},
		{name: "ErrNoKeyPathHeaders", mutate: func(d *plugin.Delivery) {
			for _, h := range []string{"x-adobe-public-key1-path", "x-adobe-public-key2-path"} {
				d.Header.Del(h)
			}
		}},
		{name: "ErrSignatureNotBase64", mutate: func(d *plugin.Delivery) {
			d.Header.Set("x-adobe-digital-signature-1", "***")
			d.Header.Set("x-adobe-digital-signature-2", "***")
		}},
		{name: "ErrLegacySignatureOnly", mutate: func(d *plugin.Delivery) {
			d.Header = http.Header{"X-Adobe-Signature": {"c29tZXRoaW5n"}}
		}},
		{name: "ErrRecipientMismatch", shop: &models.Shop{Key: "roesterei", ExternalID: "some-other-client"}},
		{name: "ErrRecipientMissing", body: []byte(`{"id":"1","type":"x"}`)},
		{name: "ErrRecipientCaseDiffers", body: []byte(`{"recipientclientid":"` + strings.ToUpper(testClientID) + `"}`)},
		{name: "ErrBatchWithForeignEvent",
			body: []byte(`[{"recipientclientid":"` + testClientID + `"},{"recipientclientid":"intruder"}]`)},
		{name: "ErrEmptyBatch", body: []byte(`[]`)},
		{name: "ErrBodyNotJSON", body: []byte(`recipientclientid=` + testClientID)},
		{name: "ErrShopWithoutClientID", shop: &models.Shop{Key: "roesterei"}},
		{name: "ErrNilShop", noShop: true},
		{name: "ErrKeysUnavailable", keys: &fakeKeys{err: fmt.Errorf("fake: %w: %w", models.ErrUnavailable, models.ErrUnauthorized)}, unavailable: true},
		{name: "ErrKeysRefused", keys: &fakeKeys{err: fmt.Errorf("fake: %w", models.ErrUnauthorized)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := body
			if tt.body != nil {
				b = tt.body
			}
			d := signedDelivery(b)
			if tt.mutate != nil {
				tt.mutate(d)
			}
			shop := testShop()
			if tt.shop != nil || tt.noShop {
				shop = tt.shop
			}
			keys := newFakeKeys()
			if tt.keys != nil {
				keys = tt.keys
			}
			err := New(keys).Verify(context.Background(), d, shop, time.Now())
			if tt.ok {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("Verify = %v, want ErrUnauthorized", err)
			}
			if got := errors.Is(err, models.ErrUnavailable); got != tt.unavailable {
				t.Fatalf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tt.unavailable)
			}
		})
	}
	t.Run("ErrNilKeySource", func(t *testing.T) {
		if err := New(nil).Verify(context.Background(), signedDelivery(body), testShop(), time.Now()); !errors.Is(err, models.ErrUnauthorized) {
			t.Fatalf("Verify = %v, want ErrUnauthorized", err)
		}
	})
	t.Run("RecipientCheckedBeforeKeys", func(t *testing.T) {
		keys := newFakeKeys()
		shop := &models.Shop{Key: "roesterei", ExternalID: "some-other-client"}
		_ = New(keys).Verify(context.Background(), signedDelivery(body), shop, time.Now())
		if keys.calls != 0 {
			t.Fatalf("fetched %d keys for a delivery addressed to another client", keys.calls)
		}
	})
}

func TestReceiver_Parse(t *testing.T) {
	anna := models.CustomerRef{ID: "77", Email: "anna.beispiel@example.com", FirstName: "Anna", LastName: "Beispiel"}
	order1042 := &models.Order{ID: "1042", Number: "000001042", PlacedAt: tp("2026-03-02T09:14:05Z"), Currency: "EUR", Total: "59.80"}
	completeData := models.EventData{Customer: anna, Order: order1042}
	completeEvents := []models.Event{
		{Type: models.OrderPlaced, Timestamp: ts("2026-03-02T09:14:05Z"), Data: completeData},
		{Type: models.OrderCompleted, Timestamp: ts("2026-03-05T10:04:58Z"), Data: completeData},
	}
	shipmentEvents := []models.Event{{
		Type: models.ShipmentShipped, Timestamp: ts("2026-03-03T15:40:19Z"),
		Data: models.EventData{
			Customer: models.CustomerRef{ID: "77", Email: "anna.beispiel@example.com"},
			Order:    &models.Order{ID: "1042", Number: "000001042"},
			Shipment: &models.Shipment{ID: "611", Carrier: "DHL Paket", Tracking: "00340434161094042557", ShippedAt: tp("2026-03-03T15:40:19Z")},
		},
	}}
	espresso1 := models.LineItem{SKU: "ESP-500", ProductID: "14", Name: "Espresso Bohnen 500 g", Quantity: 1, UnitPrice: "14.95"}
	returnItem := models.LineItem{SKU: "ESP-500", Name: "Espresso Bohnen 500 g", Quantity: 1}
	returnOrder := &models.Order{ID: "1042", Number: "000001042"}
	annaByID := models.CustomerRef{ID: "77", Email: "anna.beispiel@example.com"}

	newOrder := *order1042
	newOrder.Coupon = "WELCOME10"
	newOrder.Items = []models.LineItem{
		{SKU: "ESP-500", ProductID: "14", Name: "Espresso Bohnen 500 g", Quantity: 2, UnitPrice: "14.95"},
		// The configurable parent stands for its child item, which is left out.
		{SKU: "MUG-BLUE", ProductID: "31", Name: "Tasse", Quantity: 1, UnitPrice: "29.90"},
	}
	guestData := models.EventData{
		Customer: models.CustomerRef{Email: "jon@example.com", FirstName: "Jon", LastName: "Doe"},
		Order: &models.Order{ID: "1043", Number: "000001043", PlacedAt: tp("2026-03-03T14:00:00Z"), Currency: "USD", Total: "243.00",
			Items: []models.LineItem{
				{SKU: "IPOD2008PINK", ProductID: "632", Name: "IPod Nano - 8GB", Quantity: 1, UnitPrice: "199.00"},
				{SKU: "CASE-PINK", ProductID: "633", Name: "Case", Quantity: 1, UnitPrice: "39.00"},
			}},
	}

	tests := []struct {
		name    string
		fixture string
		want    []models.Event
	}{
		{"OrderNew", "order_new.json", []models.Event{
			{Type: models.OrderPlaced, Timestamp: ts("2026-03-02T09:14:05Z"), Data: models.EventData{Customer: anna, Order: &newOrder}},
		}},
		{"OrderCanceledGuestItemsAsObject", "order_canceled_guest.json", []models.Event{
			{Type: models.OrderPlaced, Timestamp: ts("2026-03-03T14:00:00Z"), Data: guestData},
			{Type: models.OrderCancelled, Timestamp: ts("2026-03-03T16:30:10Z"), Data: guestData},
		}},
		{"OrderComplete", "order_complete.json", completeEvents},
		{"InvoicePaid", "invoice_paid.json", []models.Event{{
			Type: models.OrderPaid, Timestamp: ts("2026-03-02T09:20:01Z"),
			Data: models.EventData{
				Customer: annaByID,
				Order:    &models.Order{ID: "1042", Number: "000001042", PaidAt: tp("2026-03-02T09:20:01Z"), Currency: "EUR", Total: "59.80"},
			},
		}}},
		{"Shipment", "shipment.json", shipmentEvents},
		{"Creditmemo", "creditmemo.json", []models.Event{{
			Type: models.RefundIssued, Timestamp: ts("2026-03-09T07:02:10Z"),
			Data: models.EventData{
				Customer: anna,
				Order:    &models.Order{ID: "1042", Number: "000001042"},
				Refund: &models.Refund{ID: "88", Amount: "14.95", Currency: "EUR", IssuedAt: tp("2026-03-09T07:02:10Z"),
					Items: []models.LineItem{espresso1}},
			},
		}}},
		{"RMAPending", "rma_pending.json", []models.Event{{
			Type: models.ReturnRequested, Timestamp: ts("2026-03-10T08:00:00Z"),
			Data: models.EventData{Customer: annaByID, Order: returnOrder,
				Return: &models.Return{ID: "19", RequestedAt: tp("2026-03-10T08:00:00Z"), Items: []models.LineItem{returnItem}}},
		}}},
		{"RMAProcessed", "rma_processed.json", []models.Event{{
			Type: models.ReturnReceived, Timestamp: ts("2026-03-14T12:30:00Z"),
			Data: models.EventData{Customer: annaByID, Order: returnOrder,
				Return: &models.Return{ID: "19", RequestedAt: tp("2026-03-10T08:00:00Z"), ReceivedAt: tp("2026-03-14T12:30:00Z"),
					Items: []models.LineItem{returnItem}}},
		}}},
		{"CustomerRegister", "customer_register.json", []models.Event{{
			Type: models.CustomerRegistered, Timestamp: ts("2025-11-18T06:18:03Z"),
			Data: models.EventData{Customer: models.CustomerRef{ID: "77", Email: "anna.beispiel@example.com", FirstName: "Anna", LastName: "Beispiel", Birthday: "1990-05-01"}},
		}}},
		{"UnknownTypeNotDecoded", "category_save.json", nil},
		{"ProductStock", "product_save.json", []models.Event{{
			Type: models.ProductStockChanged, Timestamp: ts("2022-09-21T23:45:56.702Z"),
			Data: models.EventData{Product: &models.ProductStock{SKU: "test2", Stock: 333, At: tp("2022-09-21T23:45:56.702Z")}},
		}}},
		{"Batch", "batch.json", append(append([]models.Event(nil), completeEvents...), shipmentEvents...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := signedDelivery(mustReadFixture(t, tt.fixture))
			got, err := New(nil).Parse(d)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.DeliveryID != "hdr-5e0b9b9c-1f0f-4b1a-9a0e-0d1c2b3a4f5e" {
				t.Errorf("DeliveryID = %q", got.DeliveryID)
			}
			if diff := cmp.Diff(tt.want, got.Events); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReceiver_Parse_DeliveryID(t *testing.T) {
	tests := []struct {
		name, body, wantID, wantTopic string
	}{
		{"EventID", `{"id":"ce-1","eventid":"ev-1","event_id":"legacy-1","type":"t"}`, "ev-1", "t"},
		{"LegacyEventID", `{"id":"ce-1","event_id":"legacy-1","type":"t"}`, "legacy-1", "t"},
		{"CloudEventsID", `{"id":"ce-1","type":"t"}`, "ce-1", "t"},
		{"BatchSingle", `[{"eventid":"ev-1","type":"t"}]`, "ev-1", "t"},
		{"BatchMixed", `[{"eventid":"ev-1","type":"a"},{"eventid":"ev-2","type":"b"}]`, "batch-", "batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &plugin.Delivery{Header: http.Header{}, Body: []byte(tt.body)}
			got, err := New(nil).Parse(d)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got.DeliveryID, tt.wantID) || got.Topic != tt.wantTopic {
				t.Fatalf("DeliveryID, Topic = %q, %q; want %q…, %q", got.DeliveryID, got.Topic, tt.wantID, tt.wantTopic)
			}
			again, _ := New(nil).Parse(d)
			if again.DeliveryID != got.DeliveryID {
				t.Fatalf("DeliveryID is not stable: %q, %q", got.DeliveryID, again.DeliveryID)
			}
		})
	}
}

func TestReceiver_Parse_Errors(t *testing.T) {
	const orderType = `"type":"com.adobe.commerce.observer.sales_order_save_commit_after"`
	tests := []struct {
		name      string
		body      string
		header    bool // send x-adobe-event-id
		malformed bool
		field     string
	}{
		{name: "ErrBrokenJSON", body: `{"type":`, header: true, malformed: true},
		{name: "ErrNotAnEvent", body: `"just a string"`, header: true, malformed: true},
		{name: "ErrMissingIDs", body: `{"type":"t"}`, field: "X-Adobe-Event-Id"},
		{name: "ErrValueNotAnObject", body: `{"id":"1",` + orderType + `,"data":{"value":"1042"}}`, field: "data.value"},
		{name: "ErrWrongFieldType", body: `{"id":"1",` + orderType + `,"data":{"value":{"entity_id":{"a":1}}}}`, field: "data.value.entity_id"},
		{name: "ErrBadTime", body: `{"id":"1",` + orderType + `,"data":{"value":{"entity_id":"1","customer_email":"a@example.com","created_at":"gestern"}}}`, field: "data.value.created_at"},
		{name: "ErrBadAmount", body: `{"id":"1",` + orderType + `,"time":"2026-03-02T09:14:07Z","data":{"value":{"entity_id":"1","customer_email":"a@example.com","grand_total":"1e3"}}}`, field: "data.value.grand_total"},
		{name: "ErrBadEnvelopeTime", body: `{"id":"1",` + orderType + `,"time":"soon","data":{"value":{"entity_id":"1","customer_email":"a@example.com"}}}`, field: "time"},
		{name: "ErrNoCustomer", body: `{"id":"1",` + orderType + `,"time":"2026-03-02T09:14:07Z","data":{"value":{"entity_id":"1"}}}`, field: "data.customer"},
		{name: "ErrNoOrderID", body: `{"id":"1",` + orderType + `,"time":"2026-03-02T09:14:07Z","data":{"value":{"customer_email":"a@example.com"}}}`, field: "data.order.id"},
		{name: "ErrNoTimestamp", body: `{"id":"1",` + orderType + `,"data":{"value":{"entity_id":"1","customer_email":"a@example.com"}}}`, field: "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &plugin.Delivery{Header: http.Header{}, Body: []byte(tt.body)}
			if tt.header {
				d.Header.Set("x-adobe-event-id", "ev-1")
			}
			_, err := New(nil).Parse(d)
			if !errors.Is(err, models.ErrInvalid) {
				t.Fatalf("Parse = %v, want an ErrInvalid", err)
			}
			if tt.malformed {
				var me *models.MalformedError
				if !errors.As(err, &me) {
					t.Fatalf("Parse = %T %v, want *models.MalformedError", err, err)
				}
				return
			}
			var ve *models.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %T %v, want *models.ValidationError", err, err)
			}
			if ve.Fields[0].Field != tt.field {
				t.Fatalf("first invalid field = %q (%v), want %q", ve.Fields[0].Field, err, tt.field)
			}
		})
	}
}

func TestAmount(t *testing.T) {
	tests := []struct {
		in   str
		want models.Money
		ok   bool
	}{
		{"59.8000", "59.80", true},
		{"1100", "1100.00", true},
		{"123.000000", "123.00", true},
		{"0.12345", "0.1235", true},
		{"0.12344", "0.1234", true},
		{"-14.95", "-14.95", true},
		{"-0.00001", "0.00", true},
		{"", "", true},
		{"1e3", "", false},
		{"12,50", "", false},
		{".5", "", false},
		{"1234567890123456", "", false},
	}
	for _, tt := range tests {
		var v models.ValidationError
		got := amount(&v, "x", tt.in)
		if got != tt.want || (v.Err() == nil) != tt.ok {
			t.Errorf("amount(%q) = %q, %v; want %q, ok=%v", tt.in, got, v.Err(), tt.want, tt.ok)
		}
		if got != "" && !got.Valid() {
			t.Errorf("amount(%q) = %q is not valid Money", tt.in, got)
		}
	}
}

func TestQuantity(t *testing.T) {
	for in, want := range map[str]int{"2.0000": 2, "3": 3, "0.5": 1, "1.25": 2, "0.0000": 0, "-1": 0, "x": 0, "": 0, "NaN": 0, "1e12": 0} {
		if got := quantity(in); got != want {
			t.Errorf("quantity(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestMagentoTime_DateOnly: a date alone is midnight in the shop's time
// zone; the other forms are UTC as Commerce stores them.
func TestMagentoTime_DateOnly(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		loc  *time.Location
		in   string
		want string
	}{
		{berlin, "2026-03-02", "2026-03-01T23:00:00Z"},
		{berlin, "2026-07-02", "2026-07-01T22:00:00Z"},
		{nil, "2026-03-02", "2026-03-02T00:00:00Z"},
		{berlin, "2026-03-02 10:14:05", "2026-03-02T10:14:05Z"},
	} {
		var v models.ValidationError
		got := magentoTime(c.loc, &v, "created_at", str(c.in))
		if err := v.Err(); err != nil || got == nil || got.Format(time.RFC3339) != c.want {
			t.Errorf("%q in %v: %v %v, want %s", c.in, c.loc, got, err, c.want)
		}
	}
	var v models.ValidationError
	if magentoTime(berlin, &v, "created_at", "02.03.2026") != nil || v.Err() == nil {
		t.Error("a German date must be refused with the field named")
	}
}
