package shopify

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/treue/treue/models"
)

// The payload types below hold only the fields Treue reads of Shopify's REST
// resources; encoding/json ignores the rest.

type order struct {
	ID           id     `json:"id"`
	OrderNumber  id     `json:"order_number"`
	Name         string `json:"name"`
	Email        string `json:"email"`
	ContactEmail string `json:"contact_email"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
	CancelledAt  string `json:"cancelled_at"`
	// ProcessedAt is when the order was processed (paid, for most
	// gateways); only the API reader uses it.
	ProcessedAt   string         `json:"processed_at"`
	Currency      string         `json:"currency"`
	TotalPrice    money          `json:"total_price"`
	LineItems     []lineItem     `json:"line_items"`
	DiscountCodes []discountCode `json:"discount_codes"`
	Customer      *customer      `json:"customer"`
	Fulfillments  []fulfillment  `json:"fulfillments"`
	Refunds       []refund       `json:"refunds"`
	// FinancialStatus is "voided" once the payment authorization was voided:
	// no money was taken.
	FinancialStatus string `json:"financial_status"`
	// Test is set on orders placed through a test gateway (Bogus, or a
	// payment provider's test mode) and on the admin's sample payloads.
	Test bool `json:"test"`
}

type lineItem struct {
	ID        id     `json:"id"`
	SKU       string `json:"sku"`
	ProductID id     `json:"product_id"`
	Name      string `json:"name"`
	Title     string `json:"title"`
	Quantity  int    `json:"quantity"`
	Price     money  `json:"price"`
}

type discountCode struct {
	Code string `json:"code"`
}

type customer struct {
	ID                        id              `json:"id"`
	Email                     string          `json:"email"`
	FirstName                 string          `json:"first_name"`
	LastName                  string          `json:"last_name"`
	CreatedAt                 string          `json:"created_at"`
	UpdatedAt                 string          `json:"updated_at"`
	AcceptsMarketingUpdatedAt string          `json:"accepts_marketing_updated_at"`
	EmailMarketingConsent     *marketingState `json:"email_marketing_consent"`
}

type marketingState struct {
	State            string `json:"state"`
	ConsentUpdatedAt string `json:"consent_updated_at"`
}

type fulfillment struct {
	ID              id     `json:"id"`
	OrderID         id     `json:"order_id"`
	Status          string `json:"status"`
	ShipmentStatus  string `json:"shipment_status"`
	CreatedAt       string `json:"created_at"`
	UpdatedAt       string `json:"updated_at"`
	TrackingCompany string `json:"tracking_company"`
	TrackingNumber  string `json:"tracking_number"`
	Email           string `json:"email"`
}

type refund struct {
	ID              id               `json:"id"`
	OrderID         id               `json:"order_id"`
	CreatedAt       string           `json:"created_at"`
	ProcessedAt     string           `json:"processed_at"`
	RefundLineItems []refundLineItem `json:"refund_line_items"`
	Transactions    []transaction    `json:"transactions"`
}

type refundLineItem struct {
	Quantity    int       `json:"quantity"`
	LineItem    lineItem  `json:"line_item"`
	SubtotalSet *moneySet `json:"subtotal_set"`
}

type transaction struct {
	Kind     string `json:"kind"`
	Status   string `json:"status"`
	Amount   money  `json:"amount"`
	Currency string `json:"currency"`
}

// moneySet is an amount in the shop's currency and in the one the customer
// paid in (Shopify's *_set fields).
type moneySet struct {
	ShopMoney        moneyAmount `json:"shop_money"`
	PresentmentMoney moneyAmount `json:"presentment_money"`
}

type moneyAmount struct {
	Amount       money  `json:"amount"`
	CurrencyCode string `json:"currency_code"`
}

type returnPayload struct {
	ID     id     `json:"id"`
	Status string `json:"status"`
	Order  struct {
		ID id `json:"id"`
	} `json:"order"`
	ReturnLineItems []returnLineItem `json:"return_line_items"`
	// Customer is not in Shopify's documented example; it is read in case a
	// delivery carries it (see testdata/README.md).
	Customer *customer `json:"customer"`
}

type returnLineItem struct {
	Quantity            int    `json:"quantity"`
	ReturnReason        string `json:"return_reason"`
	FulfillmentLineItem struct {
		LineItem lineItem `json:"line_item"`
	} `json:"fulfillment_line_item"`
}

// privacyPayload covers the three mandatory compliance topics.
type privacyPayload struct {
	ShopDomain string `json:"shop_domain"`
	Customer   *struct {
		ID    id     `json:"id"`
		Email string `json:"email"`
	} `json:"customer"`
}

// id is a Shopify numeric id kept as its literal text: ids such as
// 820982911946154508 do not survive a trip through float64.
type id string

func (i *id) UnmarshalJSON(b []byte) error {
	s, err := scalar(b)
	*i = id(s)
	return err
}

// money is an amount Shopify sends as a decimal string ("199.00") or, in a few
// places, as a JSON number; either way the literal is kept, never a float.
type money string

func (m *money) UnmarshalJSON(b []byte) error {
	s, err := scalar(b)
	*m = money(s)
	return err
}

// scalar returns a JSON string's value or a JSON number's literal; null is "".
func scalar(b []byte) (string, error) {
	switch {
	case len(b) == 0 || string(b) == "null":
		return "", nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		return string(b), nil
	}
	kind := "bool"
	switch b[0] {
	case '{':
		kind = "object"
	case '[':
		kind = "array"
	}
	return "", &json.UnmarshalTypeError{Value: kind, Type: reflect.TypeFor[string]()}
}

// timeField parses an RFC 3339 time from the payload; "" is no time. A bad value
// is recorded on v under field.
func timeField(v *models.ValidationError, field, s string) *time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.Add(field, "is not an RFC 3339 time: %q", s)
		return nil
	}
	t = t.UTC()
	return &t
}

// firstTime returns the first non-nil time, else fallback.
func firstTime(fallback time.Time, ts ...*time.Time) time.Time {
	for _, t := range ts {
		if t != nil {
			return *t
		}
	}
	return fallback
}

// firstNonEmpty returns the first non-blank string, trimmed.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
