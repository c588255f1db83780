// Package webhooks is Treue's pipeline, from a shop's webhook to the action
// pushed back into the shop. Each sub-package has one job:
//
//   - inbox: the intake. It verifies and parses a delivery, finds its shop
//     (through a cache) and stores it durably, committing concurrent
//     deliveries together, before the sender gets its answer.
//   - process: the processor. It turns stored deliveries into journey
//     events and profiles and plans the actions by the merchant's rules, in
//     the transaction that records them; the daily scan and the rules
//     backtest record and plan the same way.
//   - dispatch: the dispatcher. It pushes due actions into the shops, with
//     a lease per action, backoff, a rate limit and a circuit breaker per
//     shop, and retries or cancels one on request.
//   - privacy: opt-outs, the data export, erasure and the retention purge.
package webhooks
