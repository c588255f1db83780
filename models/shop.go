package models

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Platform names the shop system a shop runs on.
type Platform string

// Platforms Treue receives webhooks from.
const (
	PlatformShopware Platform = "shopware"
	PlatformShopify  Platform = "shopify"
	PlatformAdobe    Platform = "adobe"
	PlatformStandard Platform = "standard"
)

// Platforms lists every supported platform.
var Platforms = []Platform{PlatformShopware, PlatformShopify, PlatformAdobe, PlatformStandard}

// Valid reports whether p is a supported platform.
func (p Platform) Valid() bool {
	for _, q := range Platforms {
		if p == q {
			return true
		}
	}
	return false
}

var shopKeyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidShopKey reports whether key is usable in a URL path as a shop key.
func ValidShopKey(key string) bool { return shopKeyRE.MatchString(key) }

// Shop is one tenant: a shop that sends webhooks and receives actions.
type Shop struct {
	ID       int64
	Key      string
	Platform Platform
	Name     string
	Timezone string
	Currency string
	// ExternalID is how the platform names the shop in its deliveries:
	// the Shopware shopId, the Shopify shop domain, the Adobe I/O client id.
	ExternalID string
	// URL is the shop's base URL, where the platform tells us (Shopware).
	URL string
	// Source says where the shop was declared: "config", "cli" or "registration".
	Source string
	// Connector carries the shop's actions out (see ConnectorName).
	Connector string
	Secrets   ShopSecrets
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ShopSecrets is everything secret about a shop. It is stored encrypted.
type ShopSecrets struct {
	// Webhook holds the secrets a delivery may be signed with; the first is current,
	// the others are accepted during a rotation.
	Webhook []string `json:"webhook,omitempty"`
	// PreviousUntil bounds how long Webhook[1:] stay valid (zero: no bound).
	PreviousUntil time.Time `json:"previous_until,omitempty"`
	// Pending is a Shopware shop secret handed out in a registration but not yet confirmed.
	Pending     string `json:"pending,omitempty"`
	PendingURL  string `json:"pending_url,omitempty"`
	APIKey      string `json:"api_key,omitempty"`
	APISecret   string `json:"api_secret,omitempty"`
	AccessToken string `json:"access_token,omitempty"`
	TokenSecret string `json:"token_secret,omitempty"`
	// NotifyURL and NotifySecret configure the signed-webhook connector; an
	// empty secret means the shop's first webhook secret.
	NotifyURL    string `json:"notify_url,omitempty"`
	NotifySecret string `json:"notify_secret,omitempty"`
	// Standard is a Standard Webhooks secret with which a shop of another
	// platform takes canonical events on the Standard Webhooks route (an
	// extension's or app's back-in-stock subscriptions, reviews, surveys,
	// complaints), so that they join this shop's journeys.
	Standard string `json:"standard,omitempty"`
}

// ActiveWebhookSecrets returns the secrets that may sign a delivery at now.
func (s ShopSecrets) ActiveWebhookSecrets(now time.Time) []string {
	if len(s.Webhook) <= 1 || s.PreviousUntil.IsZero() || now.Before(s.PreviousUntil) {
		return s.Webhook
	}
	return s.Webhook[:1]
}

// Validate checks the fields every shop needs.
func (s *Shop) Validate() error {
	var v ValidationError
	if !ValidShopKey(s.Key) {
		v.Add("key", "must be 1-63 characters of a-z, 0-9, '-' or '_', starting with a letter or digit")
	}
	if !s.Platform.Valid() {
		v.Add("platform", "must be one of %v", Platforms)
	}
	if s.Timezone != "" {
		if _, err := time.LoadLocation(s.Timezone); err != nil {
			v.Add("timezone", "unknown time zone %q", s.Timezone)
		}
	}
	if s.Currency != "" && !currencyRE.MatchString(s.Currency) {
		v.Add("currency", "must be an ISO 4217 code such as EUR")
	}
	if s.Connector != "" && !slices.Contains(Connectors, s.Connector) {
		v.Add("connector", "must be one of %v", Connectors)
	}
	return v.Err()
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// Location returns the shop's time zone, UTC when unset or unknown. It
// reads the zone file each time: callers on a hot path keep the result.
func (s *Shop) Location() *time.Location {
	if loc, err := time.LoadLocation(s.Timezone); err == nil && s.Timezone != "" {
		return loc
	}
	return time.UTC
}

func (s *Shop) String() string { return fmt.Sprintf("%s (%s)", s.Key, s.Platform) }

// Connector names.
const (
	ConnectorShopware = "shopware"
	ConnectorMagento  = "magento"
	ConnectorShopify  = "shopify"
	ConnectorNotify   = "notify"
)

// Connectors lists every connector name.
var Connectors = []string{ConnectorShopware, ConnectorMagento, ConnectorShopify, ConnectorNotify}

// ConnectorName is the connector that carries the shop's actions out: the
// configured one, else the platform's own (Adobe Commerce is Magento; a
// Standard Webhooks shop gets signed webhooks back).
func (s *Shop) ConnectorName() string {
	if s.Connector != "" {
		return s.Connector
	}
	switch s.Platform {
	case PlatformShopware:
		return ConnectorShopware
	case PlatformShopify:
		return ConnectorShopify
	case PlatformAdobe:
		return ConnectorMagento
	}
	return ConnectorNotify
}
