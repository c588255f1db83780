package models

// Identity kinds, strongest first.
const (
	IdentityID     = "id"
	IdentityNumber = "number"
	IdentityEmail  = "email"
)

// Identity is one way a shop names a customer.
type Identity struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// Identities lists the identities a reference carries, strongest first.
func Identities(ref CustomerRef) []Identity {
	var ids []Identity
	if ref.ID != "" {
		ids = append(ids, Identity{IdentityID, ref.ID})
	}
	if ref.Number != "" {
		ids = append(ids, Identity{IdentityNumber, ref.Number})
	}
	if e := NormalizeEmail(ref.Email); e != "" {
		ids = append(ids, Identity{IdentityEmail, e})
	}
	return ids
}
