package models

import "time"

// ActionType is a loyalty action Treue pushes back into the shop.
type ActionType string

// Action types (ARCHITECTURE.md).
const (
	ActionReorderReminder ActionType = "reorder_reminder"
	ActionSampleGift      ActionType = "sample_gift"
	ActionPromoCode       ActionType = "promo_code"
	ActionPointsAward     ActionType = "points_award"
	ActionPointsRevoke    ActionType = "points_revoke"
	ActionTagCustomer     ActionType = "tag_customer"
	ActionReviewRequest   ActionType = "review_request"
	ActionNotify          ActionType = "notify"
)

// ActionTypes lists every action type.
var ActionTypes = []ActionType{
	ActionReorderReminder, ActionSampleGift, ActionPromoCode, ActionPointsAward,
	ActionPointsRevoke, ActionTagCustomer, ActionReviewRequest, ActionNotify,
}

// Valid reports whether t is a known action type.
func (t ActionType) Valid() bool {
	for _, u := range ActionTypes {
		if t == u {
			return true
		}
	}
	return false
}

// ActionStatus is where an action is in its lifecycle:
// scheduled → sending → sent, sending → retrying → … → dead,
// scheduled → cancelled, and suppressed (recorded, never sent).
type ActionStatus string

// Action statuses.
const (
	ActionScheduled  ActionStatus = "scheduled"
	ActionSending    ActionStatus = "sending"
	ActionSent       ActionStatus = "sent"
	ActionRetrying   ActionStatus = "retrying"
	ActionDead       ActionStatus = "dead"
	ActionCancelled  ActionStatus = "cancelled"
	ActionSuppressed ActionStatus = "suppressed"
)

// Action is a planned or executed loyalty action.
type Action struct {
	ID             int64
	PublicID       string
	ShopID         int64
	CustomerID     int64
	Type           ActionType
	Status         ActionStatus
	RuleID         string
	RulesVersion   string
	TriggerEventID int64
	DueAt          time.Time
	// IdempotencyKey is unique per shop; it is also sent to the shop so that a
	// retried call has its effect once.
	IdempotencyKey string
	Marketing      bool
	OrderRef       string
	SKU            string
	Category       string
	Params         map[string]any
	Reason         string
	Attempts       int
	SentAt         *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time

	// CostCents is what the action commits the merchant to, priced when it
	// was planned; it counts against the month's incentive budget. It is
	// the merchant's figure, not the customer's data: a data export leaves
	// it out.
	CostCents int64 `json:"-"`
}
