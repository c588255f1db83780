package models

import "time"

// Erasure is the audit record of one erased customer: no personal data, only
// de-identified aggregates. The API's answer has its own shape (handlers).
type Erasure struct {
	ShopID           int64
	ID               int64
	ErasedAt         time.Time
	RequestedBy      string
	Stage            string
	OrderCount       int
	TotalSpentCents  int64
	Events           int
	Actions          int
	CancelledActions int
}

// TableName names the table the store keeps erasures in.
func (Erasure) TableName() string { return "erasures" }
