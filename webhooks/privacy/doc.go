// Package privacy carries out data-protection requests: category opt-outs
// (and undoing them), the export of a customer's data, erasure, and the
// retention purge of old payloads and events.
package privacy
