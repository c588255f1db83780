package models

// LoyaltyJourney is one customer's journey as the loyalty report reads it:
// every event in source-time order, with what the order fold reads of it
// (journey.Orders and the stages): its type and time, and its order's id,
// placement time, test flag and total (order.placed) or refund amount.
type LoyaltyJourney struct {
	CustomerID int64
	Events     []Event
}
