package support

import (
	"context"
	"encoding/json"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// Export is the GDPR export document of one customer (Art. 15): everything
// Treue holds about them, with the events' canonical data and the consent
// history drawn out of them. Its fields are in the order of their names, as
// the document has always listed them.
type Export struct {
	Access         []models.AccessEntry   `json:"access_log"`
	Actions        []models.Action        `json:"actions"`
	Attempts       []models.AttemptRecord `json:"attempts"`
	ConsentHistory []ExportEvent          `json:"consent_history"`
	Customer       *models.Profile        `json:"customer"`
	Events         []ExportEvent          `json:"events"`
	Identities     []models.Identity      `json:"identities"`
	OptOuts        []models.OptOutRecord  `json:"opt_outs"`
	Points         []models.PointsEntry   `json:"points_ledger"`
	Shop           string                 `json:"shop"`
}

// ExportEvent is one journey event in the export document.
type ExportEvent struct {
	Data       json.RawMessage `json:"data"`
	ID         string          `json:"id"`
	OccurredAt time.Time       `json:"occurred_at"`
	OrderRef   string          `json:"order_ref"`
	Platform   string          `json:"platform"`
	ReceivedAt time.Time       `json:"received_at"`
	Type       string          `json:"type"`
}

// Export builds the export document of a shop's customer.
func (s *Service) Export(ctx context.Context, shop *models.Shop, customerID int64) (*Export, error) {
	x, err := s.Store.ExportCustomer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	return exportDocument(shop.Key, x), nil
}

func exportDocument(shop string, x *store.Export) *Export {
	doc := &Export{Shop: shop, Customer: x.Profile, Identities: x.Identities, Actions: x.Actions, Attempts: x.Attempts,
		OptOuts: x.OptOuts, Points: x.Points, Access: x.Access,
		Events: make([]ExportEvent, 0, len(x.Events)), ConsentHistory: []ExportEvent{}}
	for _, r := range x.Events {
		ev := ExportEvent{ID: models.EventPublicID(r.ID), Type: r.Type, OccurredAt: r.OccurredAt, ReceivedAt: r.ReceivedAt,
			Platform: r.Platform, OrderRef: r.OrderRef, Data: json.RawMessage(r.Data)}
		doc.Events = append(doc.Events, ev)
		if r.Type == string(models.ConsentGranted) || r.Type == string(models.ConsentRevoked) {
			doc.ConsentHistory = append(doc.ConsentHistory, ev)
		}
	}
	return doc
}
