package models

import "time"

// OptOutRecord is one recorded category opt-out of a customer, and who
// recorded it (the shop's event, or a support token).
type OptOutRecord struct {
	Category  string    `json:"category"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
}
