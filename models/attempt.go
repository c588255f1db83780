package models

import "time"

// Attempt is one call into the shop for an action. It never holds credentials.
type Attempt struct {
	ShopID     int64
	ID         int64
	ActionID   int64
	AttemptNo  int
	StartedAt  time.Time
	DurationMS int `gorm:"column:duration_ms"`
	StatusCode int
	Outcome    string
	Summary    string
}

// TableName names the table the store keeps attempts in.
func (Attempt) TableName() string { return "attempts" }

// AttemptRecord is an attempt as a customer's export reads it: without the
// row's own ids, and with a summary that may be missing.
type AttemptRecord struct {
	ActionID   int64     `json:"action_id"`
	AttemptNo  int       `json:"attempt_no"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int       `json:"duration_ms"`
	StatusCode int       `json:"status_code"`
	Outcome    string    `json:"outcome"`
	Summary    *string   `json:"summary"`
}
