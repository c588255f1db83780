package models

import "time"

// Erasure is the audit record of one erased customer: no personal data, only
// de-identified aggregates.
type Erasure struct {
	ShopID           int64     `json:"-"`
	ID               int64     `json:"id"`
	ErasedAt         time.Time `json:"erased_at"`
	RequestedBy      string    `json:"requested_by"`
	Stage            string    `json:"stage"`
	OrderCount       int       `json:"order_count"`
	TotalSpentCents  int64     `json:"total_spent_cents"`
	Events           int       `json:"events"`
	Actions          int       `json:"actions"`
	CancelledActions int       `json:"cancelled_actions"`
}

// TableName names the table the store keeps erasures in.
func (Erasure) TableName() string { return "erasures" }
