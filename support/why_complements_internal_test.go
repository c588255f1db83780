package support

import (
	"encoding/json"
	"testing"

	"github.com/treue/treue/models"
)

// TestWhy_Recommendation: a cross-sell action says what it recommends and
// for which purchase, read back from stored params as from planned ones;
// other actions read as before.
func TestWhy_Recommendation(t *testing.T) {
	var stored map[string]any
	if err := json.Unmarshal([]byte(`{"skus":["BEAN-FILTER-500G","KETTLE-GOOSE"],"complement_of":"BREWER-V60-02","flow_event":"treue.notify"}`), &stored); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		params map[string]any
		want   string
	}{
		{stored, "rule cross-sell-complements on shipment.delivered (order 10042) for BEAN-FILTER-500G: recommends BEAN-FILTER-500G and KETTLE-GOOSE to go with BREWER-V60-02"},
		{map[string]any{"skus": []string{"A", "B", "C"}}, "rule cross-sell-complements on shipment.delivered (order 10042) for BEAN-FILTER-500G"},
		{map[string]any{"skus": []string{"A", "B", "C"}, "complement_of": "P"}, "rule cross-sell-complements on shipment.delivered (order 10042) for BEAN-FILTER-500G: recommends A, B and C to go with P"},
		{map[string]any{"skus": []any{"A"}, "complement_of": "P"}, "rule cross-sell-complements on shipment.delivered (order 10042) for BEAN-FILTER-500G: recommends A to go with P"},
		{map[string]any{"skus": []any{}}, "rule cross-sell-complements on shipment.delivered (order 10042) for BEAN-FILTER-500G"},
		{nil, "rule cross-sell-complements on shipment.delivered (order 10042) for BEAN-FILTER-500G"},
	}
	for _, tt := range tests {
		a := &models.Action{RuleID: "cross-sell-complements", TriggerEventID: 4, OrderRef: "o-1042", SKU: "BEAN-FILTER-500G", Params: tt.params}
		if got := why(a, "shipment.delivered", "10042"); got != tt.want {
			t.Errorf("why(%v)\n got %q\nwant %q", tt.params, got, tt.want)
		}
	}
}
