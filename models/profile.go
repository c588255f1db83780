package models

import "time"

// Stage is a customer's lifecycle stage.
type Stage string

// Lifecycle stages (BRIEF.md): a purchase counts as positive once it is delivered
// and not returned, refunded or complained about.
const (
	StageNew            Stage = "new"
	StageFirstPurchase  Stage = "first_purchase"
	StageSecondPositive Stage = "second_positive"
	StageLoyal          Stage = "loyal"
	StageAtRisk         Stage = "at_risk"
	StageLapsed         Stage = "lapsed"
)

// Profile is what Treue knows about one customer, derived from their journey
// events so that the order in which events arrive does not change it.
type Profile struct {
	CustomerID int64  `json:"-"`
	PublicID   string `json:"id"`
	// Name is the customer's name as the latest event that carries one gives it.
	Name               string     `json:"name,omitempty"`
	Stage              Stage      `json:"stage"`
	OrderCount         int        `json:"order_count"`
	PositiveOrderCount int        `json:"positive_order_count"`
	ReturnCount        int        `json:"return_count"`
	TotalSpentCents    int64      `json:"total_spent_cents"`
	Currency           string     `json:"currency,omitempty"`
	FirstOrderAt       *time.Time `json:"first_order_at,omitempty"`
	LastOrderAt        *time.Time `json:"last_order_at,omitempty"`
	// ReorderIntervalDays is the median gap between orders, 0 with fewer than two.
	ReorderIntervalDays float64  `json:"reorder_interval_days"`
	Categories          []string `json:"categories"`
	SKUs                []string `json:"skus"`
	MarketingConsent    bool     `json:"marketing_consent"`
	OptedOutCategories  []string `json:"opted_out_categories"`
	// Birthday is YYYY-MM-DD, empty when unknown.
	Birthday      string `json:"birthday,omitempty"`
	PointsBalance int64  `json:"points_balance"`
	Tier          string `json:"tier,omitempty"`
	ReferralCode  string `json:"referral_code,omitempty"`
	ReferredBy    string `json:"referred_by,omitempty"`
	Holdout       bool   `json:"holdout"`
	// Satisfaction is what the customer's reviews, surveys and complaints say.
	Satisfaction
	// AbandonedCarts counts the carts Treue found abandoned (cart.abandoned);
	// LastCartAt is the latest cart update or checkout.
	AbandonedCarts int        `json:"abandoned_carts,omitempty"`
	LastCartAt     *time.Time `json:"last_cart_at,omitempty"`
}

// OptedOut reports whether the customer opted out of category.
func (p *Profile) OptedOut(category string) bool {
	for _, c := range p.OptedOutCategories {
		if c == category {
			return true
		}
	}
	return false
}
