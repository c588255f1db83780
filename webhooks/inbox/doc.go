// Package inbox is the intake: it verifies a shop's webhook delivery, finds
// the shop (through a cache), parses the delivery and stores it durably in
// the inbox table, committing concurrent deliveries together, before the
// sender gets its answer. Nothing here reads or changes a journey.
package inbox
