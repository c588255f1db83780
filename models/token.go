package models

import "time"

// Role is what an API token may do.
type Role string

// Roles: support reads customers and timelines; admin may do everything.
const (
	RoleSupport Role = "support"
	RoleAdmin   Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleSupport || r == RoleAdmin }

// Allows reports whether a token of role r may act as need.
func (r Role) Allows(need Role) bool { return r == RoleAdmin || r == need }

// Token is an API token as stored: its hash, never the token itself.
type Token struct {
	ID         int64
	Name       string
	Role       Role
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}
