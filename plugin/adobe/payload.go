package adobe

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/models"
)

// cloudEvent is one I/O Events delivery (CloudEvents 1.0, JSON).
type cloudEvent struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	Time          string `json:"time"`
	EventID       string `json:"eventid"`
	LegacyEventID string `json:"event_id"` // deprecated alias of eventid
	Data          struct {
		// Value is decoded once the type is known to be one Treue maps.
		Value json.RawMessage `json:"value"`
	} `json:"data"`
}

// id is the event's own id: eventid, its deprecated alias, else the CloudEvents id.
func (e *cloudEvent) id() string {
	for _, s := range []string{e.EventID, e.LegacyEventID, e.ID} {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// value is data.value: the Commerce entity's fields that the event subscription
// lists. Magento sends most scalars as strings ("1042", "59.8000") but some as
// numbers or null, so every scalar is a str.
type value struct {
	// loc is the shop's time zone, for times that are dates only.
	loc *time.Location

	EntityID          str `json:"entity_id"`
	ID                str `json:"id"`
	OrderID           str `json:"order_id"`
	IncrementID       str `json:"increment_id"`
	OrderIncrementID  str `json:"order_increment_id"`
	State             str `json:"state"`
	Status            str `json:"status"`
	CustomerID        str `json:"customer_id"`
	CustomerEmail     str `json:"customer_email"`
	CustomerFirstname str `json:"customer_firstname"`
	CustomerLastname  str `json:"customer_lastname"`
	// RMA entities keep the contact address here.
	CustomerCustomEmail str `json:"customer_custom_email"`
	// Customer entities (customer_register_success).
	Email     str `json:"email"`
	Firstname str `json:"firstname"`
	Lastname  str `json:"lastname"`
	Dob       str `json:"dob"`

	GrandTotal        str `json:"grand_total"`
	OrderCurrencyCode str `json:"order_currency_code"`
	CouponCode        str `json:"coupon_code"`
	CreatedAt         str `json:"created_at"`
	UpdatedAt         str `json:"updated_at"`
	DateRequested     str `json:"date_requested"`

	Items  list[item]  `json:"items"`
	Tracks list[track] `json:"tracks"`

	// Order holds order.* fields where a subscription to an invoice, shipment,
	// credit memo or RMA lists them (e.g. --fields=order.customer_email).
	Order *value `json:"order"`
	// Customer holds customer.* fields, where customer_register_success nests them.
	Customer *value `json:"customer"`
}

type item struct {
	SKU          str `json:"sku"`
	ProductSKU   str `json:"product_sku"`
	ProductID    str `json:"product_id"`
	Name         str `json:"name"`
	ProductName  str `json:"product_name"`
	QtyOrdered   str `json:"qty_ordered"`
	Qty          str `json:"qty"`
	QtyRequested str `json:"qty_requested"`
	QtyReturned  str `json:"qty_returned"`
	QtyApproved  str `json:"qty_approved"`
	Price        str `json:"price"`
	ParentItemID str `json:"parent_item_id"`
}

type track struct {
	TrackNumber str `json:"track_number"`
	Title       str `json:"title"`
	CarrierCode str `json:"carrier_code"`
}

// str is a JSON scalar as text: a string's value, a number's literal, "true" or
// "false"; null is "". Amounts thus never pass through a float.
type str string

func (s *str) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = str(strings.TrimSpace(v))
	case b[0] == '{' || b[0] == '[':
		kind := "object"
		if b[0] == '[' {
			kind = "array"
		}
		return &json.UnmarshalTypeError{Value: kind, Type: reflect.TypeFor[string]()}
	default:
		*s = str(b)
	}
	return nil
}

// list is a JSON array, or an object of elements keyed by id: PHP encodes an
// array with non-sequential keys (items keyed by item id) as an object. Object
// elements are ordered by key, numerically where the keys are numbers.
type list[T any] []T

func (l *list[T]) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var m map[string]T
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if len(keys[i]) != len(keys[j]) {
				return len(keys[i]) < len(keys[j])
			}
			return keys[i] < keys[j]
		})
		*l = make(list[T], 0, len(m))
		for _, k := range keys {
			*l = append(*l, m[k])
		}
		return nil
	}
	var s []T
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*l = s
	return nil
}

// magentoTime parses a Commerce time: "2026-03-02 10:14:05" as stored in the
// database (always UTC), or RFC 3339. A date alone ("2026-03-02", as some
// subscriptions' field lists and extensions send it) is the start of that
// day in the shop's time zone loc (nil: UTC). "" is no time; a bad value is
// recorded on v.
func magentoTime(loc *time.Location, v *models.ValidationError, field string, s str) *time.Time {
	text := strings.TrimSpace(string(s))
	if text == "" {
		return nil
	}
	for _, layout := range []string{time.DateTime, "2006-01-02T15:04:05", time.RFC3339Nano} {
		if t, err := time.ParseInLocation(layout, text, time.UTC); err == nil {
			t = t.UTC()
			return &t
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	if t, err := time.ParseInLocation(time.DateOnly, text, loc); err == nil {
		t = t.UTC()
		return &t
	}
	v.Add(field, "is not a time such as \"2026-03-02 10:14:05\" or a date such as \"2026-03-02\": %q", text)
	return nil
}

// amount normalizes a Commerce decimal ("59.8000", 1100, "123.000000") to
// models.Money with two to four decimals, rounding half up beyond four. Anything
// that is not a plain decimal is recorded on v.
func amount(v *models.ValidationError, field string, s str) models.Money {
	text := strings.TrimSpace(string(s))
	if text == "" {
		return ""
	}
	neg := strings.HasPrefix(text, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(text, "-"), ".")
	if whole == "" || len(whole) > 15 || !digits(whole) || !digits(frac) {
		v.Add(field, "must be a decimal amount, got %q", text)
		return ""
	}
	frac += "00000"
	n, _ := strconv.ParseInt(whole+frac[:4], 10, 64)
	if frac[4] >= '5' {
		n++
	}
	out := fmt.Sprintf("%d.%04d", n/10000, n%10000)
	out = strings.TrimRight(out, "0")
	if i := strings.IndexByte(out, '.'); len(out)-i-1 < 2 {
		out += strings.Repeat("0", 2-(len(out)-i-1))
	}
	if neg && n != 0 {
		out = "-" + out
	}
	return models.Money(out)
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// quantity converts a Commerce quantity ("2.0000", 3) to whole units, rounding
// a fractional quantity up so that a sold item is never counted as zero.
// Unreadable or non-positive quantities are 0.
func quantity(s str) int {
	f, err := strconv.ParseFloat(strings.TrimSpace(string(s)), 64)
	if err != nil || !(f > 0) || f > math.MaxInt32 {
		return 0
	}
	return int(math.Ceil(f - 1e-9))
}

// first returns the first non-empty value.
func first(ss ...str) string {
	for _, s := range ss {
		if s != "" {
			return string(s)
		}
	}
	return ""
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
