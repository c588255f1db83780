package shopify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

const (
	testDomain      = "kaffee-roesterei.myshopify.com"
	testTriggeredAt = "2026-03-09T07:02:12.877041743Z"
)

func mustReadFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// delivery builds a delivery as Shopify sends it.
func delivery(topic string, body []byte) *plugin.Delivery {
	h := http.Header{}
	h.Set("X-Shopify-Topic", topic)
	h.Set("X-Shopify-Shop-Domain", testDomain)
	h.Set("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
	h.Set("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5")
	h.Set("X-Shopify-Triggered-At", testTriggeredAt)
	h.Set("X-Shopify-Api-Version", "2026-01")
	return &plugin.Delivery{Header: h, Body: body}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func tp(s string) *time.Time { t := ts(s); return &t }

func TestReceiver_Identify(t *testing.T) {
	r := New()
	t.Run("OK", func(t *testing.T) {
		d := delivery("orders/create", nil)
		d.Header.Set("X-Shopify-Shop-Domain", " Kaffee-Roesterei.MyShopify.com ")
		got, err := r.Identify(d)
		if err != nil {
			t.Fatal(err)
		}
		if want := (plugin.ShopRef{ExternalID: testDomain}); got != want {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
	t.Run("ErrMissingDomain", func(t *testing.T) {
		d := delivery("orders/create", nil)
		d.Header.Del("X-Shopify-Shop-Domain")
		if _, err := r.Identify(d); !errors.Is(err, models.ErrUnauthorized) {
			t.Fatalf("got %v, want ErrUnauthorized", err)
		}
	})
}

func TestReceiver_Verify(t *testing.T) {
	now := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	body := mustReadFixture(t, "orders_create.json")
	shop := func(secrets ...string) *models.Shop {
		return &models.Shop{
			Key: "roesterei", Platform: models.PlatformShopify, ExternalID: testDomain,
			Secrets: models.ShopSecrets{Webhook: secrets, PreviousUntil: now.Add(time.Hour)},
		}
	}
	tests := []struct {
		name   string
		shop   *models.Shop
		now    time.Time
		mutate func(d *plugin.Delivery)
		ok     bool
	}{
		{name: "OK", shop: shop("new-secret"), now: now,
			mutate: func(d *plugin.Delivery) { d.Header.Set("X-Shopify-Hmac-Sha256", sign("new-secret", d.Body)) }, ok: true},
		{name: "OKLowerCaseHeaderFromHTTP2", shop: shop("new-secret"), now: now,
			mutate: func(d *plugin.Delivery) {
				d.Header = http.Header{}
				// http.Header.Get canonicalizes, so a header map built by net/http from
				// "x-shopify-hmac-sha256" is found the same way.
				d.Header.Set("x-shopify-hmac-sha256", sign("new-secret", d.Body))
				d.Header.Set("x-shopify-shop-domain", testDomain)
			}, ok: true},
		{name: "OKPreviousSecretDuringRotation", shop: shop("new-secret", "old-secret"), now: now,
			mutate: func(d *plugin.Delivery) { d.Header.Set("X-Shopify-Hmac-Sha256", sign("old-secret", d.Body)) }, ok: true},
		{name: "OKCurrentSecretDuringRotation", shop: shop("new-secret", "old-secret"), now: now,
			mutate: func(d *plugin.Delivery) { d.Header.Set("X-Shopify-Hmac-Sha256", sign("new-secret", d.Body)) }, ok: true},
		{name: "ErrPreviousSecretAfterGrace", shop: shop("new-secret", "old-secret"), now: now.Add(2 * time.Hour),
			mutate: func(d *plugin.Delivery) { d.Header.Set("X-Shopify-Hmac-Sha256", sign("old-secret", d.Body)) }},
		{name: "ErrWrongSecret", shop: shop("new-secret"), now: now,
			mutate: func(d *plugin.Delivery) { d.Header.Set("X-Shopify-Hmac-Sha256", sign("guess", d.Body)) }},
		{name: "ErrTamperedBody", shop: shop("new-secret"), now: now,
			mutate: func(d *plugin.Delivery) {
				d.Header.Set("X-Shopify-Hmac-Sha256", sign("new-secret", d.Body))
				d.Body = append([]byte(nil), d.Body...)
				d.Body[10] ^= 1
			}},
		{name: "ErrReencodedBody", shop: shop("new-secret"), now: now,
			mutate: func(d *plugin.Delivery) {
				// Shopify escapes "/" as "\/"; a body that went through a JSON
				// round trip no longer matches the signature over the raw bytes.
				d.Header.Set("X-Shopify-Hmac-Sha256", sign("new-secret", d.Body))
				var v any
				if err := json.Unmarshal(d.Body, &v); err != nil {
					t.Fatal(err)
				}
				d.Body, _ = json.Marshal(v)
			}},
		{name: "ErrMissingSignature", shop: shop("new-secret"), now: now, mutate: func(d *plugin.Delivery) {}},
		{name: "ErrSignatureNotBase64", shop: shop("new-secret"), now: now,
			mutate: func(d *plugin.Delivery) { d.Header.Set("X-Shopify-Hmac-Sha256", "not base64!") }},
		{name: "ErrHexSignature", shop: shop("new-secret"), now: now,
			mutate: func(d *plugin.Delivery) {
				d.Header.Set("X-Shopify-Hmac-Sha256", "56729488d9b0bb8de626568e7e449ed701542170")
			}},
		{name: "ErrNoSecrets", shop: shop(), now: now,
			mutate: func(d *plugin.Delivery) { d.Header.Set("X-Shopify-Hmac-Sha256", sign("", d.Body)) }},
		{name: "ErrEmptySecret", shop: shop(""), now: now,
			mutate: func(d *plugin.Delivery) { d.Header.Set("X-Shopify-Hmac-Sha256", sign("", d.Body)) }},
		{name: "ErrOtherShopDomain", shop: shop("new-secret"), now: now,
			mutate: func(d *plugin.Delivery) {
				d.Header.Set("X-Shopify-Hmac-Sha256", sign("new-secret", d.Body))
				d.Header.Set("X-Shopify-Shop-Domain", "other.myshopify.com")
			}},
		{name: "ErrNilShop", shop: nil, now: now,
			mutate: func(d *plugin.Delivery) { d.Header.Set("X-Shopify-Hmac-Sha256", sign("new-secret", d.Body)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := delivery("orders/create", body)
			tt.mutate(d)
			err := New().Verify(context.Background(), d, tt.shop, tt.now)
			if tt.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tt.ok && !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("Verify = %v, want ErrUnauthorized", err)
			}
		})
	}
}

// TestReceiver_Verify_KnownVector pins the scheme to a value computed outside Go
// (Python's hmac module), so signer and verifier cannot share a mistake.
func TestReceiver_Verify_KnownVector(t *testing.T) {
	d := delivery("orders/create", []byte(`{"id":1}`))
	d.Header.Set("X-Shopify-Hmac-Sha256", "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY=")
	shop := &models.Shop{ExternalID: testDomain, Secrets: models.ShopSecrets{Webhook: []string{"hush"}}}
	if err := New().Verify(context.Background(), d, shop, ts(testTriggeredAt).Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
}

func TestReceiver_Parse(t *testing.T) {
	anna := models.CustomerRef{ID: "7029431102139", Email: "anna.beispiel@example.com", FirstName: "Anna", LastName: "Beispiel"}
	espresso := models.LineItem{SKU: "ESP-500", ProductID: "9782123692332", Name: "Espresso Bohnen 500 g", Quantity: 2, UnitPrice: "14.95"}
	order1042 := &models.Order{
		ID: "5940139491234", Number: "1042", PlacedAt: tp("2026-03-02T09:14:05Z"), Currency: "EUR", Total: "59.80",
		Items: []models.LineItem{
			espresso,
			{ProductID: "9797441945900", Name: "Handmühle", Quantity: 1, UnitPrice: "29.95"},
		},
		Coupon: "WELCOME10",
	}
	placed := models.Event{Type: models.OrderPlaced, Timestamp: ts("2026-03-02T09:14:06Z"), Data: models.EventData{Customer: anna, Order: order1042}}
	paid := placed
	paid.Type = models.OrderPaid
	fulfilledOrder := &models.Order{
		ID: "5940139491234", Number: "1042", PlacedAt: tp("2026-03-02T09:14:05Z"), Currency: "EUR", Total: "59.80",
		Items: []models.LineItem{espresso}, Coupon: "WELCOME10",
	}
	dhl := &models.Shipment{ID: "5678901234567", Carrier: "DHL Express", Tracking: "00340434161094042557", ShippedAt: tp("2026-03-03T15:40:19Z")}
	annaByEmail := models.CustomerRef{Email: "anna.beispiel@example.com"}
	shipped := models.Event{Type: models.ShipmentShipped, Timestamp: ts("2026-03-03T15:40:19Z"),
		Data: models.EventData{Customer: annaByEmail, Order: &models.Order{ID: "5940139491234"}, Shipment: dhl}}
	deliveredShipment := *dhl
	deliveredShipment.DeliveredAt = tp("2026-03-05T10:02:44Z")
	refund := &models.Refund{
		ID: "890088186047892319", Amount: "14.95", Currency: "EUR", IssuedAt: tp("2026-03-09T07:02:10Z"),
		Items: []models.LineItem{{SKU: "ESP-500", ProductID: "9782123692332", Name: "Espresso Bohnen 500 g", Quantity: 1, UnitPrice: "14.95"}},
	}

	tests := []struct {
		name    string
		topic   string
		fixture string
		want    []models.Event
	}{
		{"OrdersCreate", "orders/create", "orders_create.json", []models.Event{placed}},
		{"OrdersPaid", "orders/paid", "orders_create.json", []models.Event{paid}},
		{"OrdersCancelledGuest", "orders/cancelled", "orders_cancelled.json", []models.Event{{
			Type: models.OrderCancelled, Timestamp: ts("2026-03-03T16:30:10Z"),
			Data: models.EventData{
				// No customer record: the order's e-mail identifies the buyer.
				Customer: models.CustomerRef{Email: "jon@example.com"},
				Order: &models.Order{
					ID: "820982911946154508", Number: "1234", PlacedAt: tp("2026-03-03T14:00:00Z"), Currency: "USD", Total: "243.00",
					Items: []models.LineItem{
						{SKU: "IPOD2008PINK", ProductID: "632910392", Name: "IPod Nano - 8GB", Quantity: 1, UnitPrice: "199.00"},
						{SKU: "IPOD2008PINK", ProductID: "632910392", Name: "IPod Nano - 8GB", Quantity: 1, UnitPrice: "39.00"},
					},
				},
			},
		}}},
		{"OrdersFulfilledSkipsCancelledFulfillment", "orders/fulfilled", "orders_fulfilled.json", []models.Event{{
			Type: models.ShipmentShipped, Timestamp: ts("2026-03-03T15:40:19Z"),
			Data: models.EventData{Customer: anna, Order: fulfilledOrder, Shipment: dhl},
		}}},
		{"OrdersUpdatedRefunds", "orders/updated", "orders_updated.json", []models.Event{{
			Type: models.RefundIssued, Timestamp: ts("2026-03-09T07:02:10Z"),
			Data: models.EventData{
				Customer: anna,
				Order: &models.Order{ID: "5940139491234", Number: "1042", PlacedAt: tp("2026-03-02T09:14:05Z"), Currency: "EUR", Total: "59.80",
					Items: []models.LineItem{espresso}},
				Refund: refund,
			},
		}}},
		{"FulfillmentsCreate", "fulfillments/create", "fulfillments_create.json", []models.Event{shipped}},
		{"FulfillmentsCreatePending", "fulfillments/create", "fulfillments_create_pending.json", nil},
		{"FulfillmentsUpdateInTransit", "fulfillments/update", "fulfillments_update_in_transit.json", []models.Event{shipped}},
		{"FulfillmentsUpdateDelivered", "fulfillments/update", "fulfillments_update_delivered.json", []models.Event{
			shipped,
			{Type: models.ShipmentDelivered, Timestamp: ts("2026-03-05T10:02:44Z"),
				Data: models.EventData{Customer: annaByEmail, Order: &models.Order{ID: "5940139491234"}, Shipment: &deliveredShipment}},
		}},
		{"ReturnsClose", "returns/close", "returns_close.json", []models.Event{{
			Type: models.ReturnReceived, Timestamp: ts(testTriggeredAt),
			Data: models.EventData{Customer: anna, Order: &models.Order{ID: "5940139491234"}, Return: &models.Return{
				ID: "3547267221", Reason: "unwanted",
				Items: []models.LineItem{{SKU: "ESP-500", ProductID: "9782123692332", Name: "Espresso Bohnen 500 g", Quantity: 1, UnitPrice: "14.95"}},
			}},
		}}},
		{"ReturnsApproveIgnored", "returns/approve", "returns_close.json", nil},
		{"CustomersCreate", "customers/create", "customers_create.json", []models.Event{
			{Type: models.CustomerRegistered, Timestamp: ts("2025-11-18T06:18:03Z"), Data: models.EventData{Customer: anna}},
			{Type: models.ConsentGranted, Timestamp: ts("2025-11-18T06:18:03Z"),
				Data: models.EventData{Customer: anna, Consent: &models.Consent{Channel: "email", At: tp("2025-11-18T06:18:03Z")}}},
		}},
		{"CustomersUpdate", "customers/update", "customers_update.json", []models.Event{
			{Type: models.ConsentRevoked, Timestamp: ts("2026-04-01T18:45:30Z"),
				Data: models.EventData{Customer: anna, Consent: &models.Consent{Channel: "email", At: tp("2026-04-01T18:45:30Z")}}},
		}},
		{"CustomersRedact", "customers/redact", "customers_redact.json", []models.Event{
			{Type: models.CustomerRedactRequested, Timestamp: ts(testTriggeredAt),
				Data: models.EventData{Customer: models.CustomerRef{ID: "7029431102139", Email: "anna.beispiel@example.com"}}},
		}},
		{"CustomersDataRequest", "customers/data_request", "customers_data_request.json", []models.Event{
			{Type: models.CustomerDataRequested, Timestamp: ts(testTriggeredAt),
				Data: models.EventData{Customer: models.CustomerRef{ID: "7029431102139", Email: "anna.beispiel@example.com"}}},
		}},
		{"ShopRedact", "shop/redact", "shop_redact.json", []models.Event{
			{Type: models.ShopRedactRequested, Timestamp: ts(testTriggeredAt)},
		}},
		{"UnknownTopic", "products/update", "orders_create.json", nil},
		{"UnknownTopicIgnoresBody", "app/uninstalled", "not json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.fixture)
			if filepath.Ext(tt.fixture) == ".json" {
				body = mustReadFixture(t, tt.fixture)
			}
			got, err := New().Parse(delivery(tt.topic, body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.DeliveryID != "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043" || got.Topic != tt.topic {
				t.Errorf("DeliveryID, Topic = %q, %q", got.DeliveryID, got.Topic)
			}
			if diff := cmp.Diff(tt.want, got.Events); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReceiver_Parse_Errors(t *testing.T) {
	tests := []struct {
		name      string
		topic     string
		body      string // a fixture name or a literal body
		mutate    func(d *plugin.Delivery)
		malformed bool
		field     string // the first invalid field, for validation errors
	}{
		{name: "ErrBrokenJSON", topic: "orders/create", body: `{"id": 1,`, malformed: true},
		{name: "ErrNotAnObject", topic: "orders/create", body: `[1,2]`, malformed: true},
		{name: "ErrMissingWebhookID", topic: "orders/create", body: "orders_create.json",
			mutate: func(d *plugin.Delivery) { d.Header.Del("X-Shopify-Webhook-Id") }, field: "X-Shopify-Webhook-Id"},
		{name: "ErrMissingTopic", topic: "", body: "orders_create.json", field: "X-Shopify-Topic"},
		{name: "ErrWrongFieldType", topic: "orders/create", body: `{"id":1,"line_items":[{"quantity":"two"}]}`, field: "line_items.quantity"},
		{name: "ErrObjectAsID", topic: "orders/create", body: `{"id":{"x":1}}`, field: "id"},
		{name: "ErrBadTime", topic: "orders/create", body: `{"id":1,"email":"a@example.com","created_at":"yesterday"}`, field: "created_at"},
		{name: "ErrMissingOrderID", topic: "orders/paid", body: `{"email":"a@example.com","updated_at":"2026-03-02T10:14:06+01:00"}`, field: "data.order.id"},
		{name: "ErrNoCustomer", topic: "orders/create", body: `{"id":1,"customer":null,"email":"","updated_at":"2026-03-02T10:14:06+01:00"}`, field: "data.customer"},
		{name: "ErrBadMoney", topic: "orders/create", body: `{"id":1,"email":"a@example.com","total_price":"12,50","updated_at":"2026-03-02T10:14:06+01:00"}`, field: "data.order.total"},
		// Shopify's refund and return payloads name no customer (see refundEvent).
		{name: "ErrCompliancePayloadWithoutTime", topic: "customers/redact", body: "customers_redact.json",
			mutate: func(d *plugin.Delivery) { d.Header.Del("X-Shopify-Triggered-At") }, field: "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			if filepath.Ext(tt.body) == ".json" {
				body = mustReadFixture(t, tt.body)
			}
			d := delivery(tt.topic, body)
			if tt.topic == "" {
				d.Header.Del("X-Shopify-Topic")
			}
			if tt.mutate != nil {
				tt.mutate(d)
			}
			_, err := New().Parse(d)
			if !errors.Is(err, models.ErrInvalid) {
				t.Fatalf("Parse = %v, want an ErrInvalid", err)
			}
			var me *models.MalformedError
			if tt.malformed {
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

// TestRefundAmount checks the refund arithmetic on its own: only successful
// refund transactions count, and the sum is exact decimal arithmetic.
func TestRefundAmount(t *testing.T) {
	var r refund
	if err := plugin.DecodeJSON("shopify", mustReadFixture(t, "refunds_create.json"), &r); err != nil {
		t.Fatal(err)
	}
	var v models.ValidationError
	got := r.toRefund(&v)
	if err := v.Err(); err != nil {
		t.Fatal(err)
	}
	if got.Amount != "14.95" || got.Currency != "EUR" {
		t.Fatalf("amount, currency = %q, %q; want 14.95 (10.00 + 4.95, the failed 14.95 left out), EUR", got.Amount, got.Currency)
	}
}

// Refunds and returns name only the order: the processor finds the customer
// through it, so they parse into order-scoped events.
func TestReceiver_Parse_OrderScoped(t *testing.T) {
	for _, tt := range []struct{ topic, body string }{{"refunds/create", "refunds_create.json"}, {"returns/request", "returns_request.json"}} {
		t.Run(tt.topic, func(t *testing.T) {
			p, err := New().Parse(delivery(tt.topic, mustReadFixture(t, tt.body)))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Events) == 0 {
				t.Fatal("no events")
			}
			for _, e := range p.Events {
				if e.Data.Order == nil || e.Data.Order.ID == "" {
					t.Fatalf("event without order: %+v", e)
				}
			}
		})
	}
}

// TestReceiver_Parse_NotSales: order payloads that describe a cancelled,
// voided or test order. Shopify's documented sample order is all three.
func TestReceiver_Parse_NotSales(t *testing.T) {
	john := models.CustomerRef{ID: "115310627314723954", Email: "john@example.com", FirstName: "John", LastName: "Smith"}
	sample := &models.Order{
		ID: "820982911946154508", Number: "1234", PlacedAt: tp("2026-03-05T00:00:00Z"), Currency: "USD", Total: "404.95",
		Items: []models.LineItem{
			{SKU: "IPOD2008PINK", ProductID: "632910392", Name: "IPod Nano - 8GB", Quantity: 1, UnitPrice: "199.00"},
			{SKU: "IPOD2008PINK", ProductID: "632910392", Name: "IPod Nano - 8GB", Quantity: 1, UnitPrice: "195.95"},
		},
		Test: true,
	}
	sampleData := models.EventData{Customer: john, Order: sample}
	sampleCancelled := models.Event{Type: models.OrderCancelled, Timestamp: ts("2026-03-05T00:00:00Z"), Data: sampleData}
	guest := models.EventData{Customer: models.CustomerRef{Email: "jon@example.com"}, Order: &models.Order{
		ID: "820982911946154508", Number: "1234", PlacedAt: tp("2026-03-03T14:00:00Z"), Currency: "USD", Total: "243.00",
		Items: []models.LineItem{
			{SKU: "IPOD2008PINK", ProductID: "632910392", Name: "IPod Nano - 8GB", Quantity: 1, UnitPrice: "199.00"},
			{SKU: "IPOD2008PINK", ProductID: "632910392", Name: "IPod Nano - 8GB", Quantity: 1, UnitPrice: "39.00"},
		},
	}}
	guestCancelled := models.Event{Type: models.OrderCancelled, Timestamp: ts("2026-03-03T16:30:10Z"), Data: guest}
	anna := models.CustomerRef{ID: "7029431102139", Email: "anna.beispiel@example.com", FirstName: "Anna", LastName: "Beispiel"}

	tests := []struct {
		name, topic, body string // body: a fixture name or a literal body
		want              []models.Event
	}{
		// The order was placed, and it is cancelled: both steps, flagged as a test.
		{"OrdersCreateDocumentedSample", "orders/create", "orders_create_sample.json", []models.Event{
			{Type: models.OrderPlaced, Timestamp: ts("2026-03-05T00:00:00Z"), Data: sampleData}, sampleCancelled,
		}},
		// No payment happened: no order.paid.
		{"OrdersPaidDocumentedSample", "orders/paid", "orders_create_sample.json", []models.Event{sampleCancelled}},
		{"OrdersCreateCancelledGuest", "orders/create", "orders_cancelled.json", []models.Event{
			{Type: models.OrderPlaced, Timestamp: ts("2026-03-03T16:30:12Z"), Data: guest}, guestCancelled,
		}},
		{"OrdersUpdatedCancelled", "orders/updated", "orders_cancelled.json", []models.Event{guestCancelled}},
		{"OrdersPaidTestGateway", "orders/paid", "orders_paid_test.json", []models.Event{{
			Type: models.OrderPaid, Timestamp: ts("2026-03-06T15:20:13Z"), Data: models.EventData{Customer: anna, Order: &models.Order{
				ID: "5940139491299", Number: "1043", PlacedAt: tp("2026-03-06T15:20:11Z"), Currency: "EUR", Total: "35.79",
				Items: []models.LineItem{{SKU: "ESP-500", ProductID: "9782123692332", Name: "Espresso Bohnen 500 g", Quantity: 2, UnitPrice: "14.95"}},
				Test:  true,
			}},
		}}},
		// Voided without cancelled_at: dated by updated_at.
		{"OrdersCreateVoided", "orders/create",
			`{"id":7,"email":"a@example.com","created_at":"2026-03-02T10:00:00+01:00","updated_at":"2026-03-02T11:00:00+01:00","financial_status":"voided","cancelled_at":null}`,
			[]models.Event{
				{Type: models.OrderPlaced, Timestamp: ts("2026-03-02T10:00:00Z"), Data: models.EventData{Customer: models.CustomerRef{Email: "a@example.com"}, Order: &models.Order{ID: "7", Number: "", PlacedAt: tp("2026-03-02T09:00:00Z")}}},
				{Type: models.OrderCancelled, Timestamp: ts("2026-03-02T10:00:00Z"), Data: models.EventData{Customer: models.CustomerRef{Email: "a@example.com"}, Order: &models.Order{ID: "7", PlacedAt: tp("2026-03-02T09:00:00Z")}}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			if filepath.Ext(tt.body) == ".json" {
				body = mustReadFixture(t, tt.body)
			}
			got, err := New().Parse(delivery(tt.topic, body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got.Events); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
		})
	}

	// The cancellation an order payload carries is the step orders/cancelled
	// records: one StepKey, so the journey keeps it once.
	create, _ := New().Parse(delivery("orders/create", mustReadFixture(t, "orders_cancelled.json")))
	cancelled, _ := New().Parse(delivery("orders/cancelled", mustReadFixture(t, "orders_cancelled.json")))
	if a, b := create.Events[1].StepKey(), cancelled.Events[0].StepKey(); a != b {
		t.Fatalf("step keys differ: orders/create %q, orders/cancelled %q", a, b)
	}
}

// TestNotSales_Profile folds the documented sample order and a test order into
// a profile: neither is a sale.
func TestNotSales_Profile(t *testing.T) {
	var events []models.Event
	for _, d := range []struct{ topic, fixture string }{
		{"orders/create", "orders_create_sample.json"}, {"orders/paid", "orders_create_sample.json"},
		{"orders/create", "orders_cancelled.json"}, {"orders/cancelled", "orders_cancelled.json"},
		{"orders/create", "orders_paid_test.json"}, {"orders/paid", "orders_paid_test.json"},
	} {
		p, err := New().Parse(delivery(d.topic, mustReadFixture(t, d.fixture)))
		if err != nil {
			t.Fatalf("%s %s: %v", d.topic, d.fixture, err)
		}
		events = append(events, p.Events...)
	}
	p := journey.Build(events, ts("2026-03-10T00:00:00Z"), journey.DefaultOptions)
	if p.OrderCount != 0 || p.TotalSpentCents != 0 || p.Stage != models.StageNew || p.LastOrderAt != nil || len(p.SKUs) != 0 {
		t.Fatalf("profile counts orders that are no sales: %+v", p)
	}
}

// TestRefundCurrency: the refund's currency comes from what the payload has —
// the transactions, else the refund line items' money sets — and stays empty
// (for the processor to fill from the order) when it has none.
func TestRefundCurrency(t *testing.T) {
	sample := string(mustReadFixture(t, "refunds_create.json"))
	tests := []struct {
		name, body, want string
	}{
		{"Transactions", sample, "EUR"},
		{"LineItemsPresentmentMoney", `{"id":1,"order_id":2,"refund_line_items":[{"quantity":1,"subtotal_set":{"shop_money":{"amount":"10.00","currency_code":"USD"},"presentment_money":{"amount":"9.20","currency_code":"EUR"}},"line_item":{"sku":"A","quantity":1}}],"transactions":[{"kind":"refund","status":"success","amount":"9.20"}]}`, "EUR"},
		{"LineItemsShopMoney", `{"id":1,"order_id":2,"refund_line_items":[{"quantity":1,"subtotal_set":{"shop_money":{"amount":"10.00","currency_code":"USD"}},"line_item":{"sku":"A","quantity":1}}],"transactions":[]}`, "USD"},
		{"None", string(mustReadFixture(t, "refunds_create_no_currency.json")), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New().Parse(delivery("refunds/create", []byte(tt.body)))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Events[0].Data.Refund.Currency; got != tt.want {
				t.Fatalf("currency %q, want %q", got, tt.want)
			}
		})
	}
	// orders/updated carries the order: a refund without a currency of its
	// own takes the order's.
	body := strings.Replace(string(mustReadFixture(t, "orders_updated.json")), `"currency":"EUR","gateway"`, `"gateway"`, 1)
	body = strings.Replace(body, `"subtotal_set":{"shop_money":{"amount":"14.95","currency_code":"EUR"}},`, ``, 1)
	if !strings.Contains(body, `"currency":"EUR"`) || strings.Contains(body, `currency_code`) {
		t.Fatal("fixture changed: the edits above no longer remove the refund's currencies")
	}
	p, err := New().Parse(delivery("orders/updated", []byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Events[0].Data.Refund.Currency; got != "EUR" {
		t.Fatalf("orders/updated refund currency %q, want the order's EUR", got)
	}
}
