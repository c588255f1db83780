package models

import "time"

// Delivery is one verified webhook delivery in the inbox, waiting to be (or
// already) turned into events.
type Delivery struct {
	ID            int64
	ShopID        int64
	Platform      string
	DeliveryID    string
	Topic         string
	Headers       string // JSON of the headers the parser needs again
	Body          []byte
	ReceivedAt    time.Time
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	ProcessedAt   *time.Time
	Error         *string
	// BodyHash keys a delivery by its content as well, where the sender's
	// delivery id is not signed: a signed body replayed under a new id is
	// then a duplicate. Nil where the id is signed.
	BodyHash *string
}

// TableName names the table the store keeps deliveries in.
func (Delivery) TableName() string { return "inbox" }
