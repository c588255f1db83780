package store

import "github.com/treue/treue/models"

// The domain types below moved to models; these aliases keep the code that
// still names them here compiling. They go once nothing names them here:
// use the models names in new code.
type (
	// InboxItem is models.Delivery.
	InboxItem = models.Delivery
	// Attempt is models.Attempt.
	Attempt = models.Attempt
	// AttemptRecord is models.AttemptRecord.
	AttemptRecord = models.AttemptRecord
	// Identity is models.Identity.
	Identity = models.Identity
	// OptOut is models.OptOutRecord.
	OptOut = models.OptOutRecord
	// PointsEntry is models.PointsEntry.
	PointsEntry = models.PointsEntry
	// AccessEntry is models.AccessEntry.
	AccessEntry = models.AccessEntry
	// Erasure is models.Erasure.
	Erasure = models.Erasure
	// LoyaltyJourney is models.LoyaltyJourney.
	LoyaltyJourney = models.LoyaltyJourney
)

// Identity kinds, strongest first: models.IdentityID and the others.
const (
	IdentityID     = models.IdentityID
	IdentityNumber = models.IdentityNumber
	IdentityEmail  = models.IdentityEmail
)

// Identities is models.Identities.
func Identities(ref models.CustomerRef) []models.Identity { return models.Identities(ref) }
