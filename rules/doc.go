// Package rules compiles a merchant's rules file and evaluates it: a pure,
// deterministic function from (event, customer profile, rules, now) to planned
// and cancelled loyalty actions. It does no I/O beyond Load reading the file.
//
// # Files
//
//	schema.go     the YAML schema (examples/rules.yaml documents it for merchants)
//	decode.go     strict YAML decoding with line:column for every problem
//	compile.go    Parse/Load, defaults, points, catalog → *Set or Diagnostics
//	compile_rule.go  one rule: triggers, guardrails, schedule, limit, action, cancels
//	compile_expr.go  expressions: type-checked compile, error positions in the file
//	env.go        what expressions see (Env) and how it is built from an Input
//	order.go      OrderState: an order folded from all its events
//	evaluate.go   Evaluate, Scan, Input, Planned, Result
//	schedule.go   due times, quiet hours, birthdays
//	guardrails.go holdout, consent, category opt-outs, frequency cap
//	cancel.go     cancel conditions for pending actions
//	key.go        idempotency keys (the limit scopes)
//	holder.go     atomic hot reload
//
// # Checking a file
//
//	set, err := rules.Load(path)
//	var diags rules.Diagnostics
//	if errors.As(err, &diags) { for _, d := range diags { fmt.Println(d) } } // FILE:LINE:COL: message
//
// # Integrating
//
// In the transaction that records an event (after the profile is updated):
//
//	res := holder.Get().Evaluate(rules.Input{
//		Shop:    rules.ShopInfo{Location: shop.Location(), Currency: shop.Currency},
//		Event:   ev, EventID: storedEvent.ID,
//		Profile: profileAfterEvent,                // PublicID required
//		Order:   &orderState,                      // rules.OrderFromEvents(all stored events of ev's order, incl. ev)
//		Pending: scheduledActionsOfCustomer,       // status scheduled
//		Recent:  dueTimesOfMarketingActions,       // scheduled or sent, marketing, within ±(longest cap window) of now
//		Now:     now,
//	})
//
// then insert every res.Planned with INSERT … ON DUPLICATE KEY DO NOTHING on
// (shop_id, idempotency_key) (Planned.Action builds the row), move every
// res.Cancels action from scheduled to cancelled (only if still scheduled),
// and log res.Errors. Once a day, call Scan for each customer (it is cheap:
// a few µs) and store its result the same way; calling it twice a day is
// harmless.
package rules
