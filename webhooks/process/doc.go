// Package process turns stored deliveries into journeys: it claims inbox
// rows, resolves and locks their customers, records each event with the
// Recorder (event, opt-out, profile) and plans the loyalty actions by the
// merchant's rules, in the transaction that records them. The daily scan,
// the history import and the rules backtest record and plan the same way,
// through the same Journal.
package process
