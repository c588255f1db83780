// Package privacy carries out data-protection requests that change data:
// category opt-outs (and undoing them), erasure, and the retention purge of
// old payloads and events. The export, a read, is package support's.
package privacy
