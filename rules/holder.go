package rules

import "sync/atomic"

// Holder holds the active rule set for hot reloads: readers call Get for
// every evaluation, a reload builds a new Set and swaps it in atomically.
// A file that does not compile leaves the old set active.
type Holder struct {
	p atomic.Pointer[Set]
}

// NewHolder returns a holder with s active.
func NewHolder(s *Set) *Holder {
	h := &Holder{}
	h.p.Store(s)
	return h
}

// Get returns the active set (nil before the first Swap).
func (h *Holder) Get() *Set { return h.p.Load() }

// Swap makes s active and returns the previous set.
func (h *Holder) Swap(s *Set) *Set { return h.p.Swap(s) }

// Reload loads path and, only if it compiles, makes it active. It returns the
// new set, or the error (Diagnostics for problems in the file) with the old
// set still active.
func (h *Holder) Reload(path string) (*Set, error) {
	s, err := Load(path)
	if err != nil {
		return nil, err
	}
	h.p.Store(s)
	return s, nil
}
