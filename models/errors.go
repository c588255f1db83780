// Package models holds Treue's domain types, enums and sentinel errors.
// It does no I/O and imports none of Treue's other packages.
package models

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors shared across packages; check them with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrDuplicate    = errors.New("duplicate")
	ErrInvalid      = errors.New("invalid")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	// ErrUnavailable marks a transient fault of our own (database down, shutting down):
	// the sender should retry.
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrConflict is a request that the resource's current state does not
	// allow (retrying an action that has not failed, cancelling a sent one).
	// The API answers it, as ErrDuplicate, with 409.
	ErrConflict = errors.New("conflict")
)

// FieldError names one field of an input that is wrong, as a JSON pointer-like path.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError is an input that parsed but misses or contradicts what it needs.
// It matches ErrInvalid.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true for validation errors.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Add appends a field error.
func (e *ValidationError) Add(field, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns e when it holds at least one field error, nil otherwise.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// MalformedError is a body that could not be decoded at all (broken JSON).
// It matches ErrInvalid, but handlers answer it with 400 rather than 422.
type MalformedError struct{ Err error }

func (e *MalformedError) Error() string        { return "malformed body: " + e.Err.Error() }
func (e *MalformedError) Unwrap() error        { return e.Err }
func (e *MalformedError) Is(target error) bool { return target == ErrInvalid }

// FieldPath writes a decoder's dotted path to a field ("data.order.items.0.sku")
// the way validation errors name fields ("data.order.items[0].sku").
func FieldPath(dotted string) string {
	parts := strings.Split(dotted, ".")
	var b strings.Builder
	for i, p := range parts {
		switch {
		case p != "" && strings.Trim(p, "0123456789") == "":
			b.WriteString("[" + p + "]")
		case i > 0:
			b.WriteString("." + p)
		default:
			b.WriteString(p)
		}
	}
	return b.String()
}
