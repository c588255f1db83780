package rules

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

// TestBudget_Diagnostics: the checker names file:line:col of each mistake
// in a budget block.
func TestBudget_Diagnostics(t *testing.T) {
	src := `defaults: {currency: EUR}
budget:
  monthly: "12,50"
  currency: USD
  redemption_rate: 1.5
rules: []
`
	_, err := Parse("b.yaml", []byte(src))
	var diags Diagnostics
	if !errors.As(err, &diags) {
		t.Fatalf("err = %v, want Diagnostics", err)
	}
	want := []string{
		`b.yaml:3:12: budget monthly must be an amount above zero such as "2000.00", got "12,50"`,
		`b.yaml:4:13: budget currency USD differs from defaults.currency EUR: costs are in the shop's currency`,
		`b.yaml:5:20: budget redemption_rate must be above 0 and at most 1 (0.3: three codes in ten are redeemed), got 1.5`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if _, err := Parse("b.yaml", []byte("budget: {currency: EUR}\nrules: []\n")); err == nil || !strings.Contains(err.Error(), "b.yaml:1:9: budget needs monthly") {
		t.Errorf("missing monthly: %v", err)
	}
}

// TestBudget_Cost prices each kind of action the way docs/rules.md says.
func TestBudget_Cost(t *testing.T) {
	src := `defaults: {currency: EUR, timezone: Europe/Berlin}
budget: {monthly: "100.00", currency: EUR, redemption_rate: 0.3}
points: {per_currency_unit: 1, value: "0.005"}
catalog:
  BEAN-1KG: {name: Beans, sample_sku: SAMPLE-50G}
  SAMPLE-50G: {name: Sample, cost: "0.90"}
rules: []
`
	s, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Budget.MonthlyCents != 10000 || s.Budget.Currency != "EUR" || s.Budget.RedemptionBasisPoints != 3000 {
		t.Fatalf("budget = %+v", s.Budget)
	}
	tests := []struct {
		name   string
		typ    models.ActionType
		sku    string
		params map[string]any
		basis  int64
		want   int64
	}{
		{"amount at the redemption rate", models.ActionPromoCode, "", map[string]any{"amount": "10.00"}, 0, 300},
		{"amount as a number", models.ActionPromoCode, "", map[string]any{"amount": 5}, 0, 150},
		{"percent of the order", models.ActionPromoCode, "", map[string]any{"percent": 10}, 8000, 240},
		{"sample by its own cost", models.ActionSampleGift, "SAMPLE-50G", nil, 0, 90},
		{"sample by its product's sample", models.ActionSampleGift, "BEAN-1KG", nil, 0, 90},
		{"sample without a cost", models.ActionSampleGift, "NOPE", nil, 0, 0},
		{"points at their value", models.ActionPointsAward, "", map[string]any{"points": 101}, 0, 51},
		{"a reminder costs nothing", models.ActionReorderReminder, "", nil, 0, 0},
	}
	for _, tt := range tests {
		if got := s.Cost(tt.typ, tt.sku, tt.params, tt.basis); got != tt.want {
			t.Errorf("%s: cost = %d, want %d", tt.name, got, tt.want)
		}
	}
	name, from, to := s.BudgetMonth(time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC)) // 00:30 on 1 Dec in Berlin
	if name != "2026-12" || !from.Equal(time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("month = %s [%s, %s)", name, from, to)
	}
}

// TestBudget_PlannedCost: an evaluation prices what it plans, with the
// order it answers as the basis of a percentage code.
func TestBudget_PlannedCost(t *testing.T) {
	src := `defaults: {currency: EUR}
budget: {monthly: "100.00", currency: EUR}
rules:
  - id: thanks
    on: [order.placed]
    kind: service
    action: {type: promo_code, params: {percent: 10}}
`
	s, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	res := s.Evaluate(Input{Event: orderEvent(models.OrderPlaced, "o-1001", at(2, 9, 15), "101.30", order1Items()...),
		Profile: profile(), Order: order1State(), Now: at(2, 9, 15)})
	if len(res.Planned) != 1 || res.Planned[0].CostCents != 1013 {
		t.Fatalf("planned = %+v, errors %v", res.Planned, res.Errors)
	}
	if a := res.Planned[0].Action(1, 1); a.CostCents != 1013 {
		t.Errorf("action cost = %d", a.CostCents)
	}
	if !s.MayCost([]models.EventType{models.OrderPlaced}) || s.MayCost([]models.EventType{models.ShipmentDelivered}) || s.MayCost(nil) {
		t.Error("MayCost: want true for order.placed only")
	}
}
