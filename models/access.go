package models

import "time"

// Access is one read of a customer's data by a token, as it is logged.
type Access struct {
	ShopID, TokenID, CustomerID int64
	What                        string
}

// AccessEntry is one access-log line as it is read back: which token read
// what, and when.
type AccessEntry struct {
	TokenName string    `json:"token"`
	What      string    `json:"what"`
	At        time.Time `json:"at"`
}
