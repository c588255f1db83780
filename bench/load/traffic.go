package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// step is one webhook delivery of a customer's journey.
type step struct {
	cust       *customer
	topic      string // event type (standard) or Shopware event name
	deliveryID string
	stepKey    string // Treue's events.step_key this delivery records
	orderID    string
	body       []byte // standard: fixed; shopware: built per attempt from the template
	tmpl       *swTemplate
	resend     bool // a duplicate delivery: the same id sent again after its ack

	// Outcome, written by the worker holding the customer.
	attempted bool
	acked     bool
	status    string // "stored", "duplicate", "ignored" of the first 2xx
	gaveUp    bool
}

// customer is one shop customer; a worker holds it while one of its
// deliveries is in flight, so its steps go out one after the other.
type customer struct {
	shop   *shop
	n      int
	id     string // the shop's customer id (standard) / customer number (shopware)
	email  string
	rng    *rand.Rand
	base   time.Time // when this customer's story starts
	orders int
	queue  []*step
	steps  []*step // every step generated, for the checks
}

// traffic generates journeys for all customers.
type traffic struct {
	run        string
	now        time.Time
	dupRate    float64
	oooRate    float64
	returnRate float64
	sw         map[string]*swTemplate
}

var catalog = []struct {
	sku, name, category string
	cents               int
}{
	{"BEAN-ESP-1KG", "Espresso Milano, beans 1 kg", "beans", 2490},
	{"BEAN-FILTER-500G", "Ethiopia Sidamo filter roast, 500 g", "beans", 1390},
	{"BEAN-DECAF-250G", "Decaf Colombia, 250 g", "beans", 990},
	{"TEA-SENCHA-100G", "Japan Sencha, 100 g", "tea", 850},
	{"TEA-ASSAM-250G", "Assam Breakfast, 250 g", "tea", 790},
	{"FILTER-102-100", "Paper filters size 102, 100 pcs", "filters", 450},
	{"GRINDER-HAND", "Hand grinder", "equipment", 4900},
}

func newCustomer(t *traffic, s *shop, n int, seed int64) *customer {
	c := &customer{shop: s, n: n, rng: rand.New(rand.NewPCG(uint64(seed), uint64(s.idx)<<32|uint64(n)))}
	c.id = fmt.Sprintf("%s-c%d-%d", t.run, s.idx+1, n)
	c.email = fmt.Sprintf("%s.c%d.%d@load.example", t.run, s.idx+1, n)
	// Stories start 60–120 days ago, on a whole second.
	c.base = t.now.Add(-time.Duration(60*24+c.rng.IntN(60*24)) * time.Hour).Truncate(time.Second)
	return c
}

// next returns the customer's next delivery, planning the next order when the
// current one is done.
func (t *traffic) next(c *customer) *step {
	if len(c.queue) == 0 {
		t.plan(c)
	}
	s := c.queue[0]
	c.queue = c.queue[1:]
	return s
}

// afterAck may schedule a duplicate delivery of s (same id) a little later,
// as a shop does when it retries a delivery whose answer it did not see.
func (t *traffic) afterAck(c *customer, s *step) {
	if s.resend || c.rng.Float64() >= t.dupRate {
		if s.tmpl == nil && !s.resend {
			s.body = s.body[:0:0] // no longer needed
		}
		return
	}
	d := *s
	d.resend, d.attempted, d.acked, d.status, d.gaveUp = true, false, false, "", false
	i := 0
	if len(c.queue) > 0 {
		i = c.rng.IntN(len(c.queue) + 1)
	}
	c.queue = append(c.queue[:i], append([]*step{&d}, c.queue[i:]...)...)
	c.steps = append(c.steps, &d)
}

// nextID makes a delivery id unique within the run: run, shop, customer and a
// per-customer counter.
func nextID(run string, c *customer) string {
	return fmt.Sprintf("%s-%d-%d-%d", run, c.shop.idx+1, c.n, len(c.steps)+1)
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// plan appends the steps of the customer's next order (and, before the first,
// a registration and consent) to its queue, a few of them out of order.
func (t *traffic) plan(c *customer) {
	k := c.orders
	c.orders++
	var steps []*step
	if c.shop.Platform == "shopware" {
		steps = t.planShopware(c, k)
	} else {
		steps = t.planStandard(c, k)
	}
	// Out of order: a step swapped with the one after it, as when two
	// webhooks overtake each other.
	for i := 0; i+1 < len(steps); i++ {
		if c.rng.Float64() < t.oooRate {
			steps[i], steps[i+1] = steps[i+1], steps[i]
			i++
		}
	}
	for _, s := range steps {
		s.cust = c
		s.deliveryID = nextID(t.run, c)
		c.steps = append(c.steps, s)
	}
	c.queue = append(c.queue, steps...)
}

// orderTimes dates order k of a customer.
func (t *traffic) orderTimes(c *customer, k int) (placed time.Time, late bool) {
	placed = c.base.Add(time.Duration(k)*9*24*time.Hour + time.Duration(c.rng.IntN(8*3600))*time.Second)
	if lim := t.now.Add(-12 * time.Hour); placed.After(lim) {
		placed = lim.Add(-time.Duration(c.rng.IntN(3600)) * time.Second).Truncate(time.Second)
	}
	return placed, c.rng.IntN(10) == 0
}

func (t *traffic) planStandard(c *customer, k int) []*step {
	var out []*step
	cust := `{"id":"` + c.id + `"}`
	if k == 0 {
		if c.rng.IntN(3) == 0 {
			at := rfc(c.base.Add(-48 * time.Hour))
			out = append(out, &step{topic: "customer.registered", stepKey: "customer.registered|id:" + c.id + "|" + at,
				body: []byte(`{"type":"customer.registered","timestamp":"` + at + `","data":{"customer":{"id":"` + c.id + `","email":"` + c.email + `","first_name":"Load"}}}`)})
		}
		if c.rng.IntN(2) == 0 {
			at := rfc(c.base.Add(-24 * time.Hour))
			out = append(out, &step{topic: "consent.granted", stepKey: "consent.granted|id:" + c.id + "|" + at,
				body: []byte(`{"type":"consent.granted","timestamp":"` + at + `","data":{"customer":{"id":"` + c.id + `","email":"` + c.email + `"},"consent":{"channel":"email","at":"` + at + `"}}}`)})
		}
	}
	placed, late := t.orderTimes(c, k)
	order := fmt.Sprintf("%s-o%d-%d-%d", t.run, c.shop.idx+1, c.n, k+1)
	var items strings.Builder
	total, first := 0, ""
	for i, n := 0, 1+c.rng.IntN(3); i < n; i++ {
		p := catalog[c.rng.IntN(len(catalog))]
		q := 1 + c.rng.IntN(2)
		total += q * p.cents
		if i > 0 {
			items.WriteByte(',')
		} else {
			first = p.sku
		}
		fmt.Fprintf(&items, `{"sku":"%s","product_id":"p-%s","name":"%s","category":"%s","quantity":%d,"unit_price":"%s"}`,
			p.sku, strings.ToLower(p.sku), p.name, p.category, q, money(p.cents))
	}
	handling := 20 * time.Hour
	transit := 30 * time.Hour
	if late {
		handling, transit = 60*time.Hour, 70*time.Hour
	}
	paid := placed.Add(3 * time.Minute)
	shipped := placed.Add(handling)
	promised := shipped.Add(48 * time.Hour)
	delivered := shipped.Add(transit)
	ship := order + "-s1"
	ev := func(typ string, at time.Time, data string) []byte {
		return []byte(`{"type":"` + typ + `","timestamp":"` + rfc(at) + `","data":{"customer":` + cust + `,"order":` + data + `}`)
	}
	out = append(out,
		&step{topic: "order.placed", orderID: order, stepKey: "order.placed|" + order,
			body: []byte(`{"type":"order.placed","timestamp":"` + rfc(placed) + `","data":{"customer":{"id":"` + c.id + `","number":"` + c.id +
				`","email":"` + c.email + `","first_name":"Load"},"order":{"id":"` + order + `","number":"` + order + `","placed_at":"` + rfc(placed) +
				`","currency":"EUR","total":"` + money(total) + `","items":[` + items.String() + `]}}}`)},
		&step{topic: "order.paid", orderID: order, stepKey: "order.paid|" + order,
			body: ev("order.paid", paid, `{"id":"`+order+`","paid_at":"`+rfc(paid)+`"}}`)},
		&step{topic: "shipment.shipped", orderID: order, stepKey: "shipment.shipped|" + order + "|" + ship,
			body: ev("shipment.shipped", shipped, `{"id":"`+order+`"},"shipment":{"id":"`+ship+`","carrier":"DHL","tracking":"0034`+strconv.Itoa(c.rng.IntN(1e9))+
				`","shipped_at":"`+rfc(shipped)+`","promised_delivery_at":"`+rfc(promised)+`"}}`)},
		&step{topic: "shipment.delivered", orderID: order, stepKey: "shipment.delivered|" + order + "|" + ship,
			body: ev("shipment.delivered", delivered, `{"id":"`+order+`"},"shipment":{"id":"`+ship+`","delivered_at":"`+rfc(delivered)+`"}}`)},
	)
	if c.rng.Float64() < t.returnRate {
		ret, ref := order+"-r1", order+"-f1"
		req, recv, refunded := delivered.Add(72*time.Hour), delivered.Add(120*time.Hour), delivered.Add(124*time.Hour)
		line := `[{"sku":"` + first + `","quantity":1}]`
		out = append(out,
			&step{topic: "return.requested", orderID: order, stepKey: "return.requested|" + order + "|" + ret,
				body: ev("return.requested", req, `{"id":"`+order+`"},"return":{"id":"`+ret+`","requested_at":"`+rfc(req)+`","reason":"damaged","items":`+line+`}}`)},
			&step{topic: "return.received", orderID: order, stepKey: "return.received|" + order + "|" + ret,
				body: ev("return.received", recv, `{"id":"`+order+`"},"return":{"id":"`+ret+`","received_at":"`+rfc(recv)+`","reason":"damaged","items":`+line+`}}`)},
			&step{topic: "refund.issued", orderID: order, stepKey: "refund.issued|" + order + "|" + ref,
				body: ev("refund.issued", refunded, `{"id":"`+order+`"},"refund":{"id":"`+ref+`","amount":"5.00","currency":"EUR","issued_at":"`+rfc(refunded)+`","items":`+line+`}}`)},
		)
	}
	return out
}

func money(cents int) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// Shopware: the fixtures of plugin/shopware/testdata, compacted, with the
// story's ids replaced per customer and order.
const (
	swOrderID     = "0190f3a1c2d34e5f8a9b0c1d2e3f4a5b"
	swDeliveryID  = "c3d4e5f6a7b849c0d1e2f3a4b5c6d7e8"
	swRefundTxID  = "e5f6a7b8c9d04be2f3a4b5c6d7e8f9a0"
	swFixtureShop = "AbC123xyzQ7pL0mN"
)

// swTemplate is a fixture cut at the values that change per delivery.
type swTemplate struct {
	topic string
	parts [][]byte // literal, hole, literal, hole, …, literal
	holes []int    // which value goes into each hole
	key   func(order string) string
}

const (
	holeOrder = iota
	holeOrderNumber
	holeCustomerNumber
	holeEmail
	holeShop
	holeEvent
	holeTimestamp
)

var swFixtures = []struct {
	file, topic string
	key         func(order string) string
}{
	{"order_placed.json", "checkout.order.placed", func(o string) string { return "order.placed|" + o }},
	{"order_paid.json", "state_enter.order_transaction.state.paid", func(o string) string { return "order.paid|" + o }},
	{"order_shipped.json", "state_enter.order_delivery.state.shipped", func(o string) string { return "shipment.shipped|" + o + "|" + swDeliveryID }},
	{"order_completed.json", "state_enter.order.state.completed", func(o string) string { return "order.completed|" + o }},
	{"order_returned_partially.json", "state_enter.order_delivery.state.returned_partially", func(o string) string {
		return "return.received|" + o + "|" + swDeliveryID + ":returned_partially"
	}},
	{"order_refunded.json", "state_enter.order_transaction.state.refunded", func(o string) string {
		return "refund.issued|" + o + "|" + swRefundTxID + ":refunded"
	}},
}

// fixtureDir finds plugin/shopware/testdata from the working directory or
// from this source file.
func fixtureDir(flagValue string) (string, error) {
	cands := []string{flagValue, "plugin/shopware/testdata"}
	if _, file, _, ok := runtime.Caller(0); ok {
		cands = append(cands, filepath.Join(filepath.Dir(file), "..", "..", "plugin", "shopware", "testdata"))
	}
	for _, d := range cands {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "order_placed.json")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("shopware fixtures not found (tried %v); run from the repository root or pass --fixtures", cands)
}

func loadShopwareTemplates(dir string) (map[string]*swTemplate, error) {
	out := map[string]*swTemplate{}
	for _, f := range swFixtures {
		raw, err := os.ReadFile(filepath.Join(dir, f.file))
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, fmt.Errorf("%s: %w", f.file, err)
		}
		var env struct {
			Source struct {
				EventID string `json:"eventId"`
			} `json:"source"`
			Timestamp int64 `json:"timestamp"`
			Data      struct {
				Payload struct {
					Order struct {
						Number   string `json:"orderNumber"`
						Customer struct {
							Number string `json:"customerNumber"`
							Email  string `json:"email"`
						} `json:"orderCustomer"`
					} `json:"order"`
				} `json:"payload"`
			} `json:"data"`
		}
		if err := json.Unmarshal(buf.Bytes(), &env); err != nil {
			return nil, fmt.Errorf("%s: %w", f.file, err)
		}
		o := env.Data.Payload.Order
		subs := []struct {
			old  string
			hole int
		}{
			{swOrderID, holeOrder},
			{`"orderNumber":"` + o.Number + `"`, holeOrderNumber},
			{`"customerNumber":"` + o.Customer.Number + `"`, holeCustomerNumber},
			{`"email":"` + o.Customer.Email + `"`, holeEmail},
			{`"shopId":"` + swFixtureShop + `"`, holeShop},
			{`"eventId":"` + env.Source.EventID + `"`, holeEvent},
			{`"timestamp":` + strconv.FormatInt(env.Timestamp, 10), holeTimestamp},
		}
		t := &swTemplate{topic: f.topic, key: f.key}
		rest := buf.Bytes()
		for {
			best, bestHole, bestLen := -1, 0, 0
			for _, s := range subs {
				if i := bytes.Index(rest, []byte(s.old)); i >= 0 && (best < 0 || i < best) {
					best, bestHole, bestLen = i, s.hole, len(s.old)
				}
			}
			if best < 0 {
				t.parts = append(t.parts, rest)
				break
			}
			t.parts = append(t.parts, rest[:best])
			t.holes = append(t.holes, bestHole)
			rest = rest[best+bestLen:]
		}
		for _, s := range subs {
			if !containsInt(t.holes, s.hole) {
				return nil, fmt.Errorf("%s: %q not found in the fixture", f.file, s.old)
			}
		}
		out[f.topic] = t
	}
	return out, nil
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// render builds the body of one Shopware delivery attempt; Shopware stamps
// every attempt anew, so the timestamp (and the signature) change on a retry.
func (t *swTemplate) render(dst []byte, s *step, now time.Time) []byte {
	c := s.cust
	for i, p := range t.parts {
		dst = append(dst, p...)
		if i == len(t.holes) {
			break
		}
		switch t.holes[i] {
		case holeOrder:
			dst = append(dst, s.orderID...)
		case holeOrderNumber:
			dst = appendField(dst, "orderNumber", s.orderID)
		case holeCustomerNumber:
			dst = appendField(dst, "customerNumber", c.id)
		case holeEmail:
			dst = appendField(dst, "email", c.email)
		case holeShop:
			dst = appendField(dst, "shopId", c.shop.ShopwareID)
		case holeEvent:
			dst = appendField(dst, "eventId", s.deliveryID)
		case holeTimestamp:
			dst = append(dst, `"timestamp":`...)
			dst = strconv.AppendInt(dst, now.Unix(), 10)
		}
	}
	return dst
}

// appendField appends "name":"value" (value needs no escaping).
func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, '"')
	dst = append(dst, name...)
	dst = append(dst, `":"`...)
	dst = append(dst, value...)
	return append(dst, '"')
}

func (t *traffic) planShopware(c *customer, k int) []*step {
	order := fmt.Sprintf("%s-o%d-%d-%d", t.run, c.shop.idx+1, c.n, k+1)
	topics := []string{"checkout.order.placed", "state_enter.order_transaction.state.paid",
		"state_enter.order_delivery.state.shipped", "state_enter.order.state.completed"}
	if c.rng.Float64() < t.returnRate {
		topics = append(topics, "state_enter.order_delivery.state.returned_partially", "state_enter.order_transaction.state.refunded")
	}
	out := make([]*step, len(topics))
	for i, topic := range topics {
		tm := t.sw[topic]
		out[i] = &step{topic: topic, orderID: order, stepKey: tm.key(order), tmpl: tm}
	}
	return out
}

// runID names a run; every id the load tool sends starts with it, so that
// the checks can tell this run's rows from others in the same database.
func runID() string {
	b := make([]byte, 3)
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	return "r" + strconv.FormatInt(time.Now().Unix()%1e6, 36) + hex.EncodeToString(b)
}
