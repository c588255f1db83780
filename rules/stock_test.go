package rules

import (
	"strings"
	"testing"
)

// TestParse_ShopEventTrigger: a rule on product.stock_changed would never
// fire, so the checker refuses it at its position and names the event to use.
func TestParse_ShopEventTrigger(t *testing.T) {
	src := "rules:\n  - id: restock\n    on: [stock.available, product.stock_changed]\n    kind: service\n    action: {type: notify, params: {channel: support}}\n"
	_, err := Parse("r.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "r.yaml:3:27: product.stock_changed is a shop event") || !strings.Contains(err.Error(), "stock.available") {
		t.Fatalf("got %v", err)
	}
	if _, err := Parse("r.yaml", []byte(strings.Replace(src, ", product.stock_changed", "", 1))); err != nil {
		t.Fatalf("on: stock.available: %v", err)
	}
}
