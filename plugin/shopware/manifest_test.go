package shopware

import (
	"encoding/xml"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// mappedTopics are the topics Parse turns into journey events; the manifest must
// subscribe to exactly these.
var mappedTopics = []string{
	"checkout.order.placed",
	"state_enter.order_transaction.state.paid",
	"state_enter.order_transaction.state.refunded",
	"state_enter.order_transaction.state.refunded_partially",
	"state_enter.order_delivery.state.shipped",
	"state_enter.order_delivery.state.shipped_partially",
	"state_enter.order_delivery.state.returned",
	"state_enter.order_delivery.state.returned_partially",
	"state_enter.order.state.completed",
	"state_enter.order.state.cancelled",
	"checkout.customer.register",
	"checkout.customer.guest_register",
	"newsletter.confirm",
	"newsletter.unsubscribe",
}

// lifecycleTopics change the shop's registration instead of a journey.
var lifecycleTopics = []string{appDeleted}

// stockTopics announce stock changes whose levels are read from the Admin API.
var stockTopics = []string{productWritten}

// TestManifest keeps manifest.xml and the parser in step: every subscribed event maps onto
// a journey event (or is a lifecycle topic) and every mapped event is subscribed. (Schema validation is done with
// xmllint, see README.md.)
func TestManifest(t *testing.T) {
	raw, err := os.ReadFile("manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Name  string `xml:"meta>name"`
		Setup struct {
			RegistrationURL string `xml:"registrationUrl"`
			Secret          string `xml:"secret"`
		} `xml:"setup"`
		Read     []string `xml:"permissions>read"`
		Webhooks []struct {
			Name  string `xml:"name,attr"`
			URL   string `xml:"url,attr"`
			Event string `xml:"event,attr"`
		} `xml:"webhooks>webhook"`
	}
	if err := xml.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Name != "TreueLoyalty" || !strings.HasSuffix(m.Setup.RegistrationURL, "/shopware/register") || m.Setup.Secret == "" {
		t.Fatalf("meta/setup: %+v %+v", m.Name, m.Setup)
	}
	// Shopware drops a webhook whose payload holds an entity the app may not read.
	for _, p := range []string{"order", "customer", "newsletter_recipient"} {
		if !slices.Contains(m.Read, p) {
			t.Errorf("no read permission for %s", p)
		}
	}

	// One payload with every key a mapped topic reads; each topic picks its own.
	payload := []byte(`{"order":{"id":"o","orderCustomer":{"email":"a@example.de"}},` +
		`"customer":{"id":"c","email":"a@example.de"},"newsletterRecipient":{"email":"a@example.de"}}`)
	var subscribed []string
	for _, w := range m.Webhooks {
		subscribed = append(subscribed, w.Event)
		if w.URL != "https://treue.example.com/webhooks/shopware" {
			t.Errorf("webhook %s posts to %s", w.Name, w.URL)
		}
		if slices.Contains(lifecycleTopics, w.Event) {
			continue
		}
		if slices.Contains(stockTopics, w.Event) {
			written := []byte(`[{"entity":"product","operation":"update","primaryKey":"4f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4","updatedFields":["availableStock"]}]`)
			if l, err := stockLookups(w.Event, written, time.Unix(1781080874, 0)); err != nil || len(l) != 1 {
				t.Errorf("subscribed event %s asks for %d stock lookups (%v)", w.Event, len(l), err)
			}
			if !slices.Contains(m.Read, "product") {
				t.Errorf("%s needs the read permission on product", w.Event)
			}
			continue
		}
		events, err := mapEvent(w.Event, payload, time.Unix(1781080874, 0))
		if err != nil || len(events) != 1 {
			t.Errorf("subscribed event %s maps to %d events (%v)", w.Event, len(events), err)
			continue
		}
		if err := events[0].Validate(); err != nil {
			t.Errorf("subscribed event %s: %v", w.Event, err)
		}
	}
	slices.Sort(subscribed)
	want := slices.Concat(mappedTopics, lifecycleTopics, stockTopics)
	slices.Sort(want)
	if !slices.Equal(subscribed, want) {
		t.Errorf("manifest subscribes to\n%v\nthe parser maps\n%v", subscribed, want)
	}
}
