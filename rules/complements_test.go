package rules

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
)

// laptopRules is seed 004's shop: after a laptop, a sleeve, a mouse or a
// dock, never a second laptop.
const laptopRules = `catalog:
  LAPTOP-14: {category: laptops, complements: [MOUSE-1, SLEEVE-14, DOCK-USB]}
  LAPTOP-16: {category: laptops}
  MOUSE-1: {category: accessories}
  SLEEVE-14: {category: bags}
  BACKPACK: {category: bags}
  DOCK-USB: {category: docks}
categories:
  laptops: {complements: [BACKPACK, MOUSE-1]}
rules:
  - id: cross-sell
    on: shipment.delivered
    for_each: order.items
    if: len(complements(item)) > 0
    when: {after: 3d}
    cancel:
      - same_sku_ordered
      - {on: category.opted_out, reason: "category_opt_out: recommendations chosen before the opt-out"}
    limit: {once_per: order, by: item.sku}
    kind: marketing
    action:
      type: notify
      sku: complements(item)[0]
      compute:
        skus: complements(item)[:3]
        complement_of: item.sku
`

func mustParse(t *testing.T, src string) *Set {
	t.Helper()
	s, err := Parse("rules.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	return s
}

// delivered is the delivery of order o-7 with the given lines, for a
// customer who bought bought (this order included) and opted out of optOuts.
func delivered(bought, optOuts []string, items ...models.LineItem) Input {
	p := profile()
	p.SKUs, p.OptedOutCategories = bought, optOuts
	ev := shipmentEvent(models.ShipmentDelivered, "o-7", models.Shipment{ID: "sh-7", DeliveredAt: tp(at(5, 11, 0))}, at(5, 11, 0))
	return Input{Event: ev, EventID: 70, Profile: p, Now: at(5, 11, 1),
		Order: &OrderState{ID: "o-7", Number: "1007", PlacedAt: at(2, 10, 0), Currency: "EUR", Items: items}}
}

type recommendation struct {
	SKU, Category string
	SKUs          []string
	Of            string
}

func recommendations(t *testing.T, r Result) []recommendation {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %+v", r.Errors)
	}
	var out []recommendation
	for _, p := range r.Planned {
		var skus []string
		list, _ := p.Params["skus"].([]any)
		for _, v := range list {
			skus = append(skus, v.(string))
		}
		of, _ := p.Params["complement_of"].(string)
		out = append(out, recommendation{SKU: p.SKU, Category: p.Category, SKUs: skus, Of: of})
	}
	return out
}

// TestComplements_Evaluate: complements(item) is the product's list, then
// its category's, less the product, what the customer bought, opted-out
// categories and duplicates; a product without any left plans nothing.
func TestComplements_Evaluate(t *testing.T) {
	s := mustParse(t, laptopRules)
	tests := []struct {
		name    string
		bought  []string
		optOuts []string
		items   []models.LineItem
		want    []recommendation
	}{
		{"first laptop", []string{"LAPTOP-14"}, nil, []models.LineItem{line("LAPTOP-14", 1, "999.00")},
			[]recommendation{{SKU: "MOUSE-1", Category: "accessories", SKUs: []string{"MOUSE-1", "SLEEVE-14", "DOCK-USB"}, Of: "LAPTOP-14"}}},
		{"mouse bought before, docks opted out", []string{"LAPTOP-14", "MOUSE-1"}, []string{"docks"}, []models.LineItem{line("LAPTOP-14", 1, "999.00")},
			[]recommendation{{SKU: "SLEEVE-14", Category: "bags", SKUs: []string{"SLEEVE-14", "BACKPACK"}, Of: "LAPTOP-14"}}},
		// The category's list only: never the other laptop, and the mouse once.
		{"laptop with only category complements", []string{"LAPTOP-16"}, nil, []models.LineItem{line("LAPTOP-16", 1, "1299.00")},
			[]recommendation{{SKU: "BACKPACK", Category: "bags", SKUs: []string{"BACKPACK", "MOUSE-1"}, Of: "LAPTOP-16"}}},
		{"everything owned or opted out", []string{"LAPTOP-14", "MOUSE-1", "SLEEVE-14", "BACKPACK"}, []string{"docks"},
			[]models.LineItem{line("LAPTOP-14", 1, "999.00")}, nil},
		{"no complements", []string{"MOUSE-1"}, nil, []models.LineItem{line("MOUSE-1", 1, "19.00")}, nil},
		{"a line not in the catalog", []string{"USB-STICK"}, nil, []models.LineItem{line("USB-STICK", 1, "9.00")}, nil},
		// Bought in the same order: the customer has it.
		{"mouse in the same order", []string{"LAPTOP-14", "MOUSE-1"}, nil,
			[]models.LineItem{line("LAPTOP-14", 1, "999.00"), line("MOUSE-1", 1, "19.00")},
			[]recommendation{{SKU: "SLEEVE-14", Category: "bags", SKUs: []string{"SLEEVE-14", "DOCK-USB", "BACKPACK"}, Of: "LAPTOP-14"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := recommendations(t, s.Evaluate(delivered(tt.bought, tt.optOuts, tt.items...)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("recommendations (-want +got):\n%s", diff)
			}
		})
	}
}

// TestComplements_Key: the key counts the delivered line, not what is
// recommended, so a second delivery of the order recommends nothing new
// even when what is left has changed.
func TestComplements_Key(t *testing.T) {
	s := mustParse(t, laptopRules)
	first := s.Evaluate(delivered([]string{"LAPTOP-14"}, nil, line("LAPTOP-14", 1, "999.00")))
	again := delivered([]string{"LAPTOP-14", "MOUSE-1"}, nil, line("LAPTOP-14", 1, "999.00"))
	again.Event.Data.Shipment.ID = "sh-8"
	second := s.Evaluate(again)
	if len(first.Planned) != 1 || len(second.Planned) != 1 {
		t.Fatalf("planned %d and %d, want one each", len(first.Planned), len(second.Planned))
	}
	if first.Planned[0].SKU == second.Planned[0].SKU {
		t.Fatalf("both recommend %s: the second should no longer", first.Planned[0].SKU)
	}
	if k := first.Planned[0].Key; k != second.Planned[0].Key || !strings.Contains(k, "|o:o-7|k:LAPTOP-14") {
		t.Fatalf("keys %q and %q, want one per order line", k, second.Planned[0].Key)
	}
}

// TestComplements_Functions: the argument may be an item or a SKU; anything
// else is an evaluation error of the rule, not a panic.
func TestComplements_Functions(t *testing.T) {
	s := mustParse(t, strings.Replace(laptopRules, "if: len(complements(item)) > 0",
		`if: complements("LAPTOP-16") == ["BACKPACK", "MOUSE-1"] && customer.bought("LAPTOP-14") && !customer.bought("LAPTOP-16") && customer.bought_category("laptops") && !customer.bought_category("bags")`, 1))
	if got := recommendations(t, s.Evaluate(delivered([]string{"LAPTOP-14"}, nil, line("LAPTOP-14", 1, "999.00")))); len(got) != 1 {
		t.Fatalf("planned %v, want the laptop's recommendation", got)
	}
	bad := mustParse(t, strings.Replace(laptopRules, "len(complements(item)) > 0", "len(complements(item.quantity)) > 0", 1))
	r := bad.Evaluate(delivered([]string{"LAPTOP-14"}, nil, line("LAPTOP-14", 1, "999.00")))
	if len(r.Planned) != 0 || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "expected an item or a SKU, got int") {
		t.Fatalf("complements(number): %+v", r)
	}
}

// TestComplements_History: customer.bought and complements see the orders
// as journey.Build folds them: a returned order counts (the customer had
// the product), a cancelled or a test order does not.
func TestComplements_History(t *testing.T) {
	s := mustParse(t, laptopRules)
	placed := func(id string, day int, sku string, test bool) models.Event {
		e := orderEvent(models.OrderPlaced, id, at(day, 10, 0), "10.00", line(sku, 1, "10.00"))
		e.Data.Order.Test = test
		return e
	}
	events := []models.Event{
		placed("o-1", 1, "MOUSE-1", false),
		returnEvent(models.ReturnReceived, "o-1", "r-1", at(3, 10, 0), line("MOUSE-1", 1, "10.00")),
		placed("o-2", 2, "SLEEVE-14", false),
		{Type: models.OrderCancelled, Timestamp: at(2, 11, 0), Data: models.EventData{Customer: customer("c-1"), Order: &models.Order{ID: "o-2"}}},
		placed("o-3", 3, "BACKPACK", true),
		placed("o-7", 4, "LAPTOP-14", false),
	}
	prof := journey.Build(events, at(5, 11, 1), journey.DefaultOptions)
	if want := []string{"LAPTOP-14", "MOUSE-1"}; !slices.Equal(prof.SKUs, want) {
		t.Fatalf("profile SKUs %v, want %v", prof.SKUs, want)
	}
	in := delivered(nil, nil, line("LAPTOP-14", 1, "999.00"))
	prof.PublicID = in.Profile.PublicID
	in.Profile = prof
	got := recommendations(t, s.Evaluate(in))
	want := []recommendation{{SKU: "SLEEVE-14", Category: "bags", SKUs: []string{"SLEEVE-14", "DOCK-USB", "BACKPACK"}, Of: "LAPTOP-14"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("recommendations (-want +got):\n%s", diff)
	}
}

// TestComplements_Cancel: ordering the recommended product before the mail
// goes out cancels it; opting out of its category too.
func TestComplements_Cancel(t *testing.T) {
	s := mustParse(t, laptopRules)
	planned := s.Evaluate(delivered([]string{"LAPTOP-14"}, nil, line("LAPTOP-14", 1, "999.00"))).Planned
	if len(planned) != 1 {
		t.Fatalf("planned %+v", planned)
	}
	p := planned[0]
	pending := []Pending{{ID: 9, RuleID: p.RuleID, Type: p.Type, DueAt: p.DueAt, SKU: p.SKU, OrderRef: p.OrderRef, Category: p.Category, Marketing: true}}
	prof := profile()
	order := orderEvent(models.OrderPlaced, "o-8", at(6, 9, 0), "19.00", line("MOUSE-1", 1, "19.00"))
	r := s.Evaluate(Input{Event: order, EventID: 80, Profile: prof, Pending: pending, Now: at(6, 9, 1)})
	if want := []Cancel{{ActionID: 9, RuleID: "cross-sell", Reason: "same_sku_ordered"}}; !cmp.Equal(want, r.Cancels) {
		t.Fatalf("cancels %+v, want %+v", r.Cancels, want)
	}
	optOut := models.Event{Type: models.CategoryOptedOut, Timestamp: at(6, 9, 0), Data: models.EventData{
		Customer: customer("c-1"), OptOut: &models.OptOut{Category: "accessories"}}}
	r = s.Evaluate(Input{Event: optOut, EventID: 81, Profile: prof, Pending: pending, Now: at(6, 9, 1)})
	if len(r.Cancels) != 1 || r.Cancels[0].Reason != "category_opt_out: accessories" {
		t.Fatalf("cancels after the opt-out %+v", r.Cancels)
	}
	// The mail would also show the sleeve: the rule's own condition
	// withdraws it on any other opt-out.
	optOut.Data.OptOut.Category = "bags"
	r = s.Evaluate(Input{Event: optOut, EventID: 81, Profile: prof, Pending: pending, Now: at(6, 9, 1)})
	if len(r.Cancels) != 1 || r.Cancels[0].Reason != "category_opt_out: recommendations chosen before the opt-out" {
		t.Fatalf("cancels after opting out of bags %+v", r.Cancels)
	}
}

// TestComplements_Check: every mistake in a complement list is reported at
// its line and column, in one run.
func TestComplements_Check(t *testing.T) {
	src := `catalog:
  LAPTOP-14:
    category: laptops
    complements: [MOUSE-1, LAPTOP-14, MOUSE-2, MOUSE-1]
  MOUSE-1: {category: accessories}
categories:
  laptops:
    complements: [BAG]
rules: []
`
	_, err := Parse("rules.yaml", []byte(src))
	var diags Diagnostics
	if !errors.As(err, &diags) {
		t.Fatalf("err = %v, want Diagnostics", err)
	}
	want := []string{
		`rules.yaml:4:28: catalog.LAPTOP-14.complements: a product cannot complement itself`,
		`rules.yaml:4:39: catalog.LAPTOP-14.complements: unknown SKU "MOUSE-2" (did you mean "MOUSE-1"?): a complement needs a catalog entry, whose category decides opt-outs`,
		`rules.yaml:4:48: catalog.LAPTOP-14.complements: "MOUSE-1" is listed twice`,
		`rules.yaml:8:19: categories.laptops.complements: unknown SKU "BAG": a complement needs a catalog entry, whose category decides opt-outs`,
	}
	got := make([]string, len(diags))
	for i, d := range diags {
		got[i] = d.String()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("diagnostics (-want +got):\n%s", diff)
	}
}

// TestComplements_ExampleRule: the example file's cross-sell rule, for a
// dripper delivered to a customer who has the filters and opted out of
// equipment: the beans and the kettle, in the catalog's order.
func TestComplements_ExampleRule(t *testing.T) {
	s := mustLoad(t, examplePath)
	in := delivered([]string{"BREWER-V60-02", "FILTER-V60-02-100"}, []string{"equipment"}, line("BREWER-V60-02", 1, "24.00"))
	var got []Planned
	for _, p := range s.Evaluate(in).Planned {
		if p.RuleID == "cross-sell-complements" {
			got = append(got, p)
		}
	}
	if len(got) != 1 {
		t.Fatalf("planned %+v, want one recommendation", got)
	}
	p := got[0]
	if p.Type != models.ActionNotify || p.Status != models.ActionScheduled || p.SKU != "BEAN-FILTER-500G" || p.Category != "beans" ||
		!cmp.Equal(p.Params["skus"], []any{"BEAN-FILTER-500G", "KETTLE-GOOSE"}) || p.Params["complement_of"] != "BREWER-V60-02" ||
		p.Params["flow_event"] == nil || !p.DueAt.Equal(at(8, 11, 0)) {
		t.Fatalf("recommendation %+v", p)
	}
}

// TestComplements_OnlyWhereUsed: a file that never asks about ownership
// evaluates without setting it up; one that asks only in a cancel
// condition or a computed param gets it.
func TestComplements_OnlyWhereUsed(t *testing.T) {
	if s := mustLoad(t, examplePath); !s.usesOwnership {
		t.Error("the example rules use complements, but the set does not know")
	}
	without := mustParse(t, "rules:\n  - {id: a, on: order.paid, kind: service, action: {type: tag_customer, params: {tag: x}}}\n")
	if without.usesOwnership {
		t.Error("a file without complements or customer.bought sets them up")
	}
	for _, src := range []string{
		`rules:
  - id: a
    on: order.paid
    kind: service
    action: {type: tag_customer, compute: {tag: 'customer.bought("MOUSE-1") ? "has-mouse" : "no-mouse"'}}
`,
		`catalog: {MOUSE-1: {category: accessories}}
rules:
  - id: a
    on: order.paid
    kind: service
    cancel: [{on: order.placed, if: 'len(complements("MOUSE-1")) == 0'}]
    action: {type: tag_customer, compute: {tag: '"x"'}}
`,
	} {
		s := mustParse(t, src)
		in := delivered([]string{"MOUSE-1"}, nil, line("MOUSE-1", 1, "19.00"))
		in.Event.Type = models.OrderPaid
		if r := s.Evaluate(in); !s.usesOwnership || len(r.Errors) > 0 {
			t.Errorf("%s: uses ownership %v, errors %+v", src, s.usesOwnership, r.Errors)
		}
	}
}
