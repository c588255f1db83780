package models

import "time"

// PointsEntry is one line of a customer's points ledger: the action that
// booked it, the points it adds (negative: takes back) and why.
type PointsEntry struct {
	ActionID  int64     `json:"action_id"`
	Delta     int64     `json:"delta"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}
