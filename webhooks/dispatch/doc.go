// Package dispatch pushes due actions into the shops: it leases them from
// the outbox, calls the shop's connector, and settles each as sent, retried
// with backoff, or dead; a rate limit and a circuit breaker per shop keep a
// slow or failing shop from being flooded. Support staff retry or cancel an
// action through it, and it says why an unsent action waits.
package dispatch
