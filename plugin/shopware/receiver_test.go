package shopware

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// Identifiers used in the fixtures (see testdata/README.md).
const (
	fixtureShopID   = "AbC123xyzQ7pL0mN"
	fixtureSecret   = "5f0c3a9e2b7d4c1e8a6f0b3d5c7e9a1b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6a8c0b2d4f6e8a0c2e4b6d8f0a2c4e6a8c0b2d4f6e8a0c2e4b6d8f0a2c4"
	orderID         = "0190f3a1c2d34e5f8a9b0c1d2e3f4a5b"
	deliveryID      = "c3d4e5f6a7b849c0d1e2f3a4b5c6d7e8"
	paidTransaction = "e5f6a7b8c9d04be2f3a4b5c6d7e8f9a0"
)

func mustFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// signedDelivery is body as Shopware would post it, signed with secret.
func signedDelivery(body []byte, secret string) *plugin.Delivery {
	h := http.Header{}
	h.Set(shopSignatureHeader, signHex(secret, body))
	return &plugin.Delivery{Header: h, Body: body}
}

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func at(tb testing.TB, s string) *time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatal(err)
	}
	t = t.UTC()
	return &t
}

func TestReceiver_Identify(t *testing.T) {
	r := New(0)
	if r.Platform() != models.PlatformShopware {
		t.Fatalf("Platform() = %q", r.Platform())
	}
	t.Run("OK", func(t *testing.T) {
		got, err := r.Identify(&plugin.Delivery{Body: mustFixture(t, "order_placed.json")})
		if err != nil {
			t.Fatal(err)
		}
		if got != (plugin.ShopRef{ExternalID: fixtureShopID}) {
			t.Fatalf("got %+v", got)
		}
	})
	for name, body := range map[string]string{
		"ErrNoShopID":  `{"data":{"event":"x","payload":{}},"source":{"url":"https://shop.example"}}`,
		"ErrBroken":    `{"source":{"shopId":`,
		"ErrWrongType": `{"source":{"shopId":42}}`,
		"ErrNotObject": `[]`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := r.Identify(&plugin.Delivery{Body: []byte(body)})
			if !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("got %v, want ErrUnauthorized", err)
			}
		})
	}
}

func TestReceiver_Verify(t *testing.T) {
	body := mustFixture(t, "order_placed.json")
	sent := unix(1781080874) // the fixture's timestamp
	rotated := models.ShopSecrets{Webhook: []string{"new-secret", fixtureSecret}, PreviousUntil: sent.Add(time.Minute)}
	current := models.ShopSecrets{Webhook: []string{fixtureSecret}}
	noTimestamp := bytes.Replace(body, []byte(`"timestamp": 1781080874`), []byte(`"sentAt": 1781080874`), 1)

	tests := []struct {
		name     string
		r        *Receiver
		d        *plugin.Delivery
		secrets  models.ShopSecrets
		now      time.Time
		wantErr  bool
		contains string
	}{
		{name: "OK", d: signedDelivery(body, fixtureSecret), secrets: current, now: sent},
		{name: "OKClockSkew", d: signedDelivery(body, fixtureSecret), secrets: current, now: sent.Add(-4 * time.Minute)},
		{name: "OKPreviousSecretDuringGrace", d: signedDelivery(body, fixtureSecret), secrets: rotated, now: sent.Add(59 * time.Second)},
		{name: "OKUppercaseHex", d: func() *plugin.Delivery {
			d := signedDelivery(body, fixtureSecret)
			d.Header.Set(shopSignatureHeader, string(bytes.ToUpper([]byte(d.Header.Get(shopSignatureHeader)))))
			return d
		}(), secrets: current, now: sent},
		{name: "ErrPreviousSecretAfterGrace", d: signedDelivery(body, fixtureSecret), secrets: rotated, now: sent.Add(61 * time.Second), wantErr: true, contains: "does not match"},
		{name: "ErrWrongSecret", d: signedDelivery(body, "another-shops-secret"), secrets: current, now: sent, wantErr: true, contains: "does not match"},
		{name: "ErrMissingSignature", d: &plugin.Delivery{Header: http.Header{}, Body: body}, secrets: current, now: sent, wantErr: true, contains: "missing"},
		{name: "ErrNotHex", d: func() *plugin.Delivery {
			d := signedDelivery(body, fixtureSecret)
			d.Header.Set(shopSignatureHeader, "sha256="+d.Header.Get(shopSignatureHeader))
			return d
		}(), secrets: current, now: sent, wantErr: true, contains: "not a hex"},
		{name: "ErrTamperedBody", d: &plugin.Delivery{
			Header: signedDelivery(body, fixtureSecret).Header,
			Body:   bytes.Replace(body, []byte(`"amountTotal": 54.8`), []byte(`"amountTotal": 5480`), 1),
		}, secrets: current, now: sent, wantErr: true, contains: "does not match"},
		{name: "ErrNoSecrets", d: signedDelivery(body, fixtureSecret), now: sent, wantErr: true, contains: "no secret"},
		{name: "ErrEmptySecret", d: signedDelivery(body, ""), secrets: models.ShopSecrets{Webhook: []string{""}}, now: sent, wantErr: true, contains: "no secret"},
		{name: "ErrStale", d: signedDelivery(body, fixtureSecret), secrets: current, now: sent.Add(6 * time.Minute), wantErr: true, contains: "timestamp"},
		{name: "ErrFuture", d: signedDelivery(body, fixtureSecret), secrets: current, now: sent.Add(-6 * time.Minute), wantErr: true, contains: "timestamp"},
		{name: "ErrStaleCustomTolerance", r: New(time.Minute), d: signedDelivery(body, fixtureSecret), secrets: current, now: sent.Add(2 * time.Minute), wantErr: true, contains: "timestamp"},
		{name: "ErrNoTimestamp", d: signedDelivery(noTimestamp, fixtureSecret), secrets: current, now: sent, wantErr: true, contains: "timestamp is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			if r == nil {
				r = New(0)
			}
			shop := &models.Shop{Key: "sw-test", Platform: models.PlatformShopware, Secrets: tt.secrets}
			err := r.Verify(context.Background(), tt.d, shop, tt.now)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("got %v, want ErrUnauthorized", err)
			}
			if !bytes.Contains([]byte(err.Error()), []byte(tt.contains)) {
				t.Errorf("error %q does not give the reason %q", err, tt.contains)
			}
			for _, s := range tt.secrets.Webhook {
				if s != "" && bytes.Contains([]byte(err.Error()), []byte(s)) {
					t.Errorf("error %q reveals a secret", err)
				}
			}
		})
	}
}

// anna is the buyer of order 10042. The order events carry no customer id: Shopware
// strips orderCustomer.customerId from business events.
var anna = models.CustomerRef{Number: "10017", Email: "anna.schmidt@example.de", FirstName: "Anna", LastName: "Schmidt"}

// order10042 is what every order event of the fixtures carries.
func order10042(tb testing.TB) *models.Order {
	return &models.Order{
		ID:       orderID,
		Number:   "10042",
		PlacedAt: at(tb, "2026-06-10T08:41:12.345Z"),
		Currency: "EUR",
		Total:    "54.80",
		Items: []models.LineItem{
			{SKU: "SW10001", ProductID: "4f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4", Name: "Bio-Espresso Bohnen 1 kg", Quantity: 2, UnitPrice: "19.95"},
			{SKU: "SW10007", ProductID: "7c9e1a3b5d7f49a1c3e5b7d9f1a3c5e7", Name: "Entkalker 500 ml", Quantity: 1, UnitPrice: "15.00"},
		},
		Coupon: "WELCOME5",
	}
}

// edit returns body with each old replaced by the new that follows it.
func edit(tb testing.TB, body []byte, oldNew ...string) []byte {
	tb.Helper()
	for i := 0; i+1 < len(oldNew); i += 2 {
		if !bytes.Contains(body, []byte(oldNew[i])) {
			tb.Fatalf("fixture has no %q", oldNew[i])
		}
		body = bytes.ReplaceAll(body, []byte(oldNew[i]), []byte(oldNew[i+1]))
	}
	return body
}

func TestReceiver_Parse(t *testing.T) {
	withOrder := func(typ models.EventType, ts int64, change func(*models.EventData)) []models.Event {
		e := models.Event{Type: typ, Timestamp: unix(ts), Data: models.EventData{Customer: anna, Order: order10042(t)}}
		if change != nil {
			change(&e.Data)
		}
		return []models.Event{e}
	}
	shipped := func(d *models.EventData) {
		d.Shipment = &models.Shipment{ID: deliveryID, Carrier: "DHL Paket", Tracking: "00340434161094042557", ShippedAt: at(t, "2026-06-11T14:02:09.5Z")}
	}
	returned := func(state string, items []models.LineItem) func(*models.EventData) {
		return func(d *models.EventData) {
			d.Return = &models.Return{ID: deliveryID + ":" + state, ReceivedAt: at(t, "2026-06-20T10:15:00.042Z"), Items: items}
		}
	}
	refunded := func(state string, amount models.Money) func(*models.EventData) {
		return func(d *models.EventData) {
			d.Refund = &models.Refund{ID: paidTransaction + ":" + state, Amount: amount, Currency: "EUR", IssuedAt: at(t, "2026-06-22T09:00:00.731Z")}
		}
	}
	registered := func(ts string) []models.Event {
		return []models.Event{{Type: models.CustomerRegistered, Timestamp: *at(t, ts), Data: models.EventData{Customer: models.CustomerRef{
			ID: "f6a7b8c9d0e14fa3b4c5d6e7f8a9b0c1", Number: "10017", Email: "anna.schmidt@example.de",
			FirstName: "Anna", LastName: "Schmidt", Birthday: "1988-03-14",
		}}}}
	}
	ben := models.CustomerRef{Email: "ben.mueller@example.de"}

	tests := []struct {
		name       string
		body       []byte
		header     http.Header
		wantID     string
		wantTopic  string
		wantEvents []models.Event
		// wantLookups are the stock levels to read from the Admin API.
		wantLookups []plugin.StockLookup
	}{
		{
			name: "OrderPlaced", body: mustFixture(t, "order_placed.json"),
			wantID: "0190f3a2b7c84d5e9f1a2b3c4d5e6f70", wantTopic: "checkout.order.placed",
			wantEvents: withOrder(models.OrderPlaced, 1781080874, nil),
		},
		{
			// Two transactions: the PayPal attempt failed, the card payment went through.
			name: "OrderPaid", body: mustFixture(t, "order_paid.json"),
			wantID: "0190f3a2f1d24e6fa0b1c2d3e4f5a6b7", wantTopic: "state_enter.order_transaction.state.paid",
			wantEvents: withOrder(models.OrderPaid, 1781080893, func(d *models.EventData) { d.Order.PaidAt = at(t, "2026-06-10T08:41:31.877Z") }),
		},
		{
			name: "PaidPartiallyIsNotPaid",
			body: edit(t, mustFixture(t, "order_paid.json"),
				`"event": "state_enter.order_transaction.state.paid"`, `"event": "state_enter.order_transaction.state.paid_partially"`,
				`"technicalName": "paid"`, `"technicalName": "paid_partially"`),
			wantID: "0190f3a2f1d24e6fa0b1c2d3e4f5a6b7", wantTopic: "state_enter.order_transaction.state.paid_partially",
		},
		{
			name: "Shipped", body: mustFixture(t, "order_shipped.json"),
			wantID: "0190f8c4a9e27b3c8d4e5f6a7b8c9d0e", wantTopic: "state_enter.order_delivery.state.shipped",
			wantEvents: withOrder(models.ShipmentShipped, 1781186531, shipped),
		},
		{
			name: "ShippedPartially",
			body: edit(t, mustFixture(t, "order_shipped.json"),
				`"event": "state_enter.order_delivery.state.shipped"`, `"event": "state_enter.order_delivery.state.shipped_partially"`,
				`"technicalName": "shipped"`, `"technicalName": "shipped_partially"`),
			wantID: "0190f8c4a9e27b3c8d4e5f6a7b8c9d0e", wantTopic: "state_enter.order_delivery.state.shipped_partially",
			wantEvents: withOrder(models.ShipmentShipped, 1781186531, shipped),
		},
		{
			name: "ReturnedPartially", body: mustFixture(t, "order_returned_partially.json"),
			wantID: "01912a7b3c4d5e6f7a8b9c0d1e2f3a4b", wantTopic: "state_enter.order_delivery.state.returned_partially",
			wantEvents: withOrder(models.ReturnReceived, 1781950502, returned("returned_partially", nil)),
		},
		{
			// The only parcel came back whole: the return holds every item.
			name: "Returned",
			body: edit(t, mustFixture(t, "order_returned_partially.json"),
				`"event": "state_enter.order_delivery.state.returned_partially"`, `"event": "state_enter.order_delivery.state.returned"`,
				`"technicalName": "returned_partially"`, `"technicalName": "returned"`),
			wantID: "01912a7b3c4d5e6f7a8b9c0d1e2f3a4b", wantTopic: "state_enter.order_delivery.state.returned",
			wantEvents: withOrder(models.ReturnReceived, 1781950502, returned("returned", order10042(t).Items)),
		},
		{
			name: "Refunded", body: mustFixture(t, "order_refunded.json"),
			wantID: "0191348e2f1a4b5c6d7e8f9a0b1c2d3e", wantTopic: "state_enter.order_transaction.state.refunded",
			wantEvents: withOrder(models.RefundIssued, 1782118802, refunded("refunded", "54.80")),
		},
		{
			// The payload does not say how much of a partial refund was paid back.
			name: "RefundedPartially",
			body: edit(t, mustFixture(t, "order_refunded.json"),
				`"event": "state_enter.order_transaction.state.refunded"`, `"event": "state_enter.order_transaction.state.refunded_partially"`,
				`"technicalName": "refunded"`, `"technicalName": "refunded_partially"`),
			wantID: "0191348e2f1a4b5c6d7e8f9a0b1c2d3e", wantTopic: "state_enter.order_transaction.state.refunded_partially",
			wantEvents: withOrder(models.RefundIssued, 1782118802, refunded("refunded_partially", "")),
		},
		{
			name: "Completed", body: mustFixture(t, "order_completed.json"),
			wantID: "0190fc1e5d3a7f2b9c8d7e6f5a4b3c2d", wantTopic: "state_enter.order.state.completed",
			wantEvents: withOrder(models.OrderCompleted, 1781244002, nil),
		},
		{
			name: "Cancelled",
			body: edit(t, mustFixture(t, "order_completed.json"),
				`"event": "state_enter.order.state.completed"`, `"event": "state_enter.order.state.cancelled"`),
			wantID: "0190fc1e5d3a7f2b9c8d7e6f5a4b3c2d", wantTopic: "state_enter.order.state.cancelled",
			wantEvents: withOrder(models.OrderCancelled, 1781244002, nil),
		},
		{
			name: "CustomerRegister", body: mustFixture(t, "customer_register.json"),
			wantID: "0190f398e4b17c2d9e0f1a2b3c4d5e6f", wantTopic: "checkout.customer.register",
			wantEvents: registered("2026-06-10T08:30:05.12Z"),
		},
		{
			name: "CustomerGuestRegister",
			body: edit(t, mustFixture(t, "customer_register.json"),
				`"event": "checkout.customer.register"`, `"event": "checkout.customer.guest_register"`,
				`"guest": false`, `"guest": true`),
			wantID: "0190f398e4b17c2d9e0f1a2b3c4d5e6f", wantTopic: "checkout.customer.guest_register",
			wantEvents: registered("2026-06-10T08:30:05.12Z"),
		},
		{
			// Double opt-in pending: not consent yet.
			name: "NewsletterRegister", body: mustFixture(t, "newsletter_register.json"),
			wantID: "0190f399d2c85e6f7a8b9c0d1e2f3a4b", wantTopic: "newsletter.register",
		},
		{
			name: "NewsletterConfirm", body: mustFixture(t, "newsletter_confirm.json"),
			wantID: "0190f39d6a1b4c2d8e9f0a1b2c3d4e5f", wantTopic: "newsletter.confirm",
			wantEvents: []models.Event{{Type: models.ConsentGranted, Timestamp: unix(1781080541), Data: models.EventData{
				Customer: ben, Consent: &models.Consent{Channel: "email", At: at(t, "2026-06-10T08:35:40.001Z")},
			}}},
		},
		{
			name: "NewsletterUnsubscribe", body: mustFixture(t, "newsletter_unsubscribe.json"),
			wantID: "0191ab5c3d2e4f1a9b8c7d6e5f4a3b2c", wantTopic: "newsletter.unsubscribe",
			wantEvents: []models.Event{{Type: models.ConsentRevoked, Timestamp: unix(1783012323), Data: models.EventData{
				Customer: ben, Consent: &models.Consent{Channel: "email", At: at(t, "2026-07-02T17:12:01.66Z")},
			}}},
		},
		{
			// A product's stock changed: its level is read from the Admin API.
			name: "EntityWrittenListPayload", body: mustFixture(t, "product_written.json"),
			wantID: "0190f3a2c3b45d6e7f8a9b0c1d2e3f4a", wantTopic: "product.written",
			wantLookups: []plugin.StockLookup{{Ref: "4f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4", At: unix(1781080875)}},
		},
		{
			// A write of other fields, a deletion and another entity ask for nothing.
			name: "ProductWrittenWithoutStock",
			body: []byte(`{"data":{"event":"product.written","payload":[` +
				`{"entity":"product","operation":"update","primaryKey":"4f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4","updatedFields":["name","updatedAt"]},` +
				`{"entity":"product","operation":"delete","primaryKey":"5f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4","updatedFields":["stock"]},` +
				`{"entity":"product_translation","operation":"update","primaryKey":{"productId":"6f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4"},"updatedFields":["stock"]},` +
				`{"entity":"product","operation":"insert","primaryKey":"7f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4","updatedFields":["name"]}]},` +
				`"source":{"shopId":"s","eventId":"e2"},"timestamp":1781080874}`),
			wantID: "e2", wantTopic: "product.written",
			wantLookups: []plugin.StockLookup{{Ref: "7f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4", At: unix(1781080874)}},
		},
		{
			name: "AppLifecycleEmptyListPayload", body: mustFixture(t, "app_installed.json"),
			wantID: "0190f1e0a9b84c7d6e5f4a3b2c1d0e9f", wantTopic: "app.installed",
		},
		{
			name:   "UnusedBusinessEvent",
			body:   edit(t, mustFixture(t, "customer_register.json"), `"event": "checkout.customer.register"`, `"event": "checkout.customer.login"`),
			wantID: "0190f398e4b17c2d9e0f1a2b3c4d5e6f", wantTopic: "checkout.customer.login",
		},
		{
			name:   "EventIDFromHeader",
			body:   []byte(`{"data":{"payload":[],"event":"app.activated"},"source":{"url":"https:\/\/shop.example","shopId":"AbC123xyzQ7pL0mN","appVersion":"1.0.0"},"timestamp":1781000000}`),
			header: http.Header{"X-Shopware-Event-Id": {"0190f1e0a9b84c7d6e5f4a3b2c1d0eaa"}},
			wantID: "0190f1e0a9b84c7d6e5f4a3b2c1d0eaa", wantTopic: "app.activated",
		},
		{
			// The header is not covered by the signature; the body's id wins.
			name: "SignedEventIDWins", body: mustFixture(t, "app_installed.json"),
			header: http.Header{"X-Shopware-Event-Id": {"forged"}},
			wantID: "0190f1e0a9b84c7d6e5f4a3b2c1d0e9f", wantTopic: "app.installed",
		},
		{
			// Where a Shopware version keeps orderCustomer.customerId, it is the customer's id.
			name: "OrderWithCustomerID",
			body: []byte(`{"data":{"event":"checkout.order.placed","payload":{"order":{"id":"o1","orderNumber":"7",` +
				`"orderDateTime":"2026-06-10T08:41:12.345+02:00","amountTotal":0.30000000000000004,"currency":{"isoCode":"EUR"},` +
				`"orderCustomer":{"customerId":"c1","email":"x@example.de"},` +
				`"lineItems":[{"type":"custom","label":"Gift wrap","quantity":1,"unitPrice":2,"payload":[]},` +
				`{"type":"product","referencedId":"p1","label":"Tea","quantity":3,"unitPrice":1.5,"payload":[]}]}}},` +
				`"source":{"shopId":"s","eventId":"e1"},"timestamp":1781080874}`),
			wantID: "e1", wantTopic: "checkout.order.placed",
			wantEvents: []models.Event{{Type: models.OrderPlaced, Timestamp: unix(1781080874), Data: models.EventData{
				Customer: models.CustomerRef{ID: "c1", Email: "x@example.de"},
				Order: &models.Order{ID: "o1", Number: "7", PlacedAt: at(t, "2026-06-10T06:41:12.345Z"), Currency: "EUR", Total: "0.30",
					Items: []models.LineItem{{ProductID: "p1", Name: "Tea", Quantity: 3, UnitPrice: "1.50"}}},
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			got, err := New(0).Parse(&plugin.Delivery{Header: h, Body: tt.body})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := plugin.Parsed{DeliveryID: tt.wantID, Topic: tt.wantTopic, Events: tt.wantEvents, StockLookups: tt.wantLookups}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReceiver_Parse_PaidBeforePlaced checks that a payment that arrives before its
// order (Shopware's workers race) still tells what was bought, by whom, for how much.
func TestReceiver_Parse_PaidBeforePlaced(t *testing.T) {
	got, err := New(0).Parse(&plugin.Delivery{Header: http.Header{}, Body: mustFixture(t, "order_paid.json")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 1 {
		t.Fatalf("got %d events", len(got.Events))
	}
	e := got.Events[0]
	o := e.Data.Order
	if e.Type != models.OrderPaid || o == nil || o.Number != "10042" || o.Total != "54.80" || o.Currency != "EUR" ||
		len(o.Items) != 2 || o.PlacedAt == nil || e.Data.Customer.Email == "" {
		t.Fatalf("order.paid does not carry the order: %+v %+v", e, o)
	}
	placed, err := New(0).Parse(&plugin.Delivery{Header: http.Header{}, Body: mustFixture(t, "order_placed.json")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(placed.Events[0].Data.Order.Items, o.Items); diff != "" {
		t.Errorf("paid and placed disagree on the items (-placed +paid):\n%s", diff)
	}
}

func TestReceiver_Parse_Errors(t *testing.T) {
	tests := []struct {
		name      string
		body      []byte
		malformed bool   // want *models.MalformedError
		field     string // else want *models.ValidationError naming this field
	}{
		{name: "ErrBrokenJSON", body: []byte(`{"data":{"event":"checkout.order.placed"`), malformed: true},
		{name: "ErrNotJSON", body: []byte(`event=checkout.order.placed`), malformed: true},
		{name: "ErrNotAnObject", body: []byte(`[{"data":{}}]`), malformed: true},
		{name: "ErrEmptyBody", body: nil, malformed: true},
		{name: "ErrMissingEventID", body: []byte(`{"data":{"event":"app.installed","payload":[]},"source":{"shopId":"s"},"timestamp":1781000000}`), field: "source.eventId"},
		{name: "ErrMissingEvent", body: []byte(`{"data":{"payload":[]},"source":{"shopId":"s","eventId":"e"},"timestamp":1781000000}`), field: "data.event"},
		{name: "ErrTimestampNotANumber", body: []byte(`{"data":{"event":"app.installed","payload":[]},"source":{"eventId":"e"},"timestamp":"1781000000"}`), field: "timestamp"},
		{name: "ErrBusinessPayloadIsAList", body: []byte(`{"data":{"event":"checkout.order.placed","payload":[]},"source":{"eventId":"e"},"timestamp":1781000000}`), field: "data.payload"},
		{name: "ErrQuantityNotANumber", body: []byte(`{"data":{"event":"checkout.order.placed","payload":{"order":{"id":"o","lineItems":[{"type":"product","quantity":"2"}]}}},"source":{"eventId":"e"},"timestamp":1781000000}`), field: "data.payload.order.lineItems[0].quantity"},
		{name: "ErrNoTimestamp", body: []byte(`{"data":{"event":"checkout.order.placed","payload":{"order":{"id":"o","orderCustomer":{"email":"a@example.de"}}}},"source":{"eventId":"e"}}`), field: "timestamp"},
		{name: "ErrPlacedWithoutCustomer", body: []byte(`{"data":{"event":"checkout.order.placed","payload":{"order":{"id":"o"}}},"source":{"eventId":"e"},"timestamp":1781000000}`), field: "data.customer"},
		{name: "ErrOrderWithoutID", body: []byte(`{"data":{"event":"checkout.order.placed","payload":{"order":{"orderCustomer":{"email":"a@example.de"}}}},"source":{"eventId":"e"},"timestamp":1781000000}`), field: "data.order.id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(0).Parse(&plugin.Delivery{Header: http.Header{}, Body: tt.body})
			if !errors.Is(err, models.ErrInvalid) {
				t.Fatalf("got %v, want an error matching ErrInvalid", err)
			}
			var m *models.MalformedError
			var v *models.ValidationError
			switch {
			case tt.malformed:
				if !errors.As(err, &m) {
					t.Fatalf("got %T %v, want *models.MalformedError", err, err)
				}
			case !errors.As(err, &v):
				t.Fatalf("got %T %v, want *models.ValidationError", err, err)
			case v.Fields[0].Field != tt.field:
				t.Fatalf("got field %q (%v), want %q", v.Fields[0].Field, err, tt.field)
			}
		})
	}
}

func TestEntered(t *testing.T) {
	ts := unix(1781080893)
	st := func(id, state, updated string) stateful {
		return stateful{ID: id, UpdatedAt: updated, StateMachineState: &swState{TechnicalName: state}}
	}
	tests := []struct {
		name    string
		entries []stateful
		wantI   int
		wantAt  time.Time
	}{
		{name: "LatestMatchWins", entries: []stateful{
			st("a", "paid", "2026-06-10T08:00:00.000+00:00"),
			st("b", "failed", "2026-06-10T09:00:00.000+00:00"),
			st("c", "paid", "2026-06-10T08:30:00.000+00:00"),
		}, wantI: 2, wantAt: *at(t, "2026-06-10T08:30:00Z")},
		{name: "FirstOnTie", entries: []stateful{
			st("a", "paid", "2026-06-10T08:00:00.000+00:00"),
			st("b", "paid", "2026-06-10T08:00:00.000+00:00"),
		}, wantI: 0, wantAt: *at(t, "2026-06-10T08:00:00Z")},
		{name: "MatchWithoutUpdatedAt", entries: []stateful{st("a", "paid", "")}, wantI: 0, wantAt: ts},
		{name: "NoStateLoadedSingleEntry", entries: []stateful{{ID: "a", UpdatedAt: "2026-06-10T08:00:00.000+00:00"}}, wantI: 0, wantAt: *at(t, "2026-06-10T08:00:00Z")},
		{name: "NoMatchAmongSeveral", entries: []stateful{st("a", "open", ""), st("b", "failed", "")}, wantI: -1, wantAt: ts},
		{name: "None", wantI: -1, wantAt: ts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, got := entered(tt.entries, "paid", ts)
			if i != tt.wantI || !got.Equal(tt.wantAt) {
				t.Fatalf("entered = %d, %v; want %d, %v", i, got, tt.wantI, tt.wantAt)
			}
		})
	}
}

func TestMoney(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	tests := []struct {
		in   *float64
		want models.Money
	}{
		{nil, ""}, {f(54.8), "54.80"}, {f(15), "15.00"}, {f(19.95), "19.95"}, {f(-5), "-5.00"},
		{f(0.1 + 0.2), "0.30"}, {f(12.345), "12.345"}, {f(1.00005), "1.0001"}, {f(0), "0.00"},
	}
	for _, tt := range tests {
		got := money(tt.in)
		if got != tt.want {
			t.Errorf("money(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if got != "" && !got.Valid() {
			t.Errorf("money(%v) = %q is not valid Money", tt.in, got)
		}
	}
}

func TestDate(t *testing.T) {
	for in, want := range map[string]string{
		"1988-03-14T00:00:00.000+00:00": "1988-03-14",
		"1988-03-14T00:00:00.000+02:00": "1988-03-14", // not moved to the 13th by a UTC conversion
		"1988-03-14":                    "1988-03-14",
		"":                              "",
		"14.03.1988":                    "",
	} {
		if got := date(in); got != want {
			t.Errorf("date(%q) = %q, want %q", in, got, want)
		}
	}
}

// A newsletter payload stripped of every identity (the store-api field filter
// may do that) is acknowledged without a journey step, not refused.
func TestReceiver_Parse_NewsletterRecipientStripped(t *testing.T) {
	p, err := New(0).Parse(&plugin.Delivery{Header: http.Header{}, Body: mustFixture(t, "newsletter_confirm_stripped.json")})
	if err != nil || len(p.Events) != 0 {
		t.Fatalf("got %+v, %v; want no events and no error", p, err)
	}
}

// app.deleted ends the registration; other lifecycle events are only acknowledged.
func TestReceiver_Parse_AppDeleted(t *testing.T) {
	r := New(0)
	for _, tc := range []struct {
		body []byte
		want bool
	}{
		{mustFixture(t, "app_installed.json"), false},
		{mustFixture(t, "app_deleted.json"), true},
	} {
		p, err := r.Parse(signedDelivery(tc.body, "s"))
		if err != nil || p.Uninstalled != tc.want || len(p.Events) != 0 {
			t.Errorf("%s: uninstalled %v, %d events, err %v; want uninstalled %v, no events", p.Topic, p.Uninstalled, len(p.Events), err, tc.want)
		}
	}
}
