package support

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// TestExportDocument: the document keeps the shape it had when the store
// built it (testdata, written by that code), byte for byte.
func TestExportDocument(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sum := "ok 200"
	full := &store.Export{
		Profile:    &models.Profile{CustomerID: 7, PublicID: "p-1", Stage: models.StageLoyal, Categories: []string{"beans"}, FirstOrderAt: &t0},
		Identities: []models.Identity{{Kind: "email", Value: "a@b.c"}, {Kind: "id", Value: "c-1"}},
		Events: []store.EventRecord{
			{ID: 11, Type: "consent.granted", OccurredAt: t0, ReceivedAt: t0.Add(time.Second), Platform: "standard", Data: `{"customer":{"id":"c-1"},"consent":{"channel":"email"}}`},
			{ID: 12, Type: "order.placed", OccurredAt: t0, ReceivedAt: t0, Platform: "standard", OrderRef: "o-1", Data: `{"order":{"id":"o-1"}}`},
		},
		Actions: []models.Action{{ID: 3, PublicID: "a-1", Type: models.ActionNotify, Params: map[string]any{"x": 1}, SentAt: &t0}},
		Attempts: []models.AttemptRecord{{ActionID: 3, AttemptNo: 1, StartedAt: t0, DurationMS: 5, StatusCode: 200, Outcome: "ok", Summary: &sum},
			{ActionID: 3, AttemptNo: 2}},
		OptOuts: []models.OptOutRecord{{Category: "tea", Source: "api:x", CreatedAt: t0}},
		Points:  []models.PointsEntry{{ActionID: 3, Delta: 10, Reason: "welcome", CreatedAt: t0}},
		Access:  []models.AccessEntry{{TokenName: "tok", What: "timeline", At: t0}},
	}
	empty := &store.Export{Identities: []models.Identity{}, Events: []store.EventRecord{}, Actions: []models.Action{},
		Attempts: []models.AttemptRecord{}, OptOuts: []models.OptOutRecord{}, Points: []models.PointsEntry{}, Access: []models.AccessEntry{}}
	for file, x := range map[string]*store.Export{"testdata/export.json": full, "testdata/export_empty.json": empty} {
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.MarshalIndent(exportDocument("acme", x), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: the document changed:\n%s", file, got)
		}
	}
}
