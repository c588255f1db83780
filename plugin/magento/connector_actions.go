package magento

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/treue/treue/plugin"
)

// coupon is the part of Magento's CouponInterface Treue reads.
type coupon struct {
	CouponID json.Number `json:"coupon_id"`
	RuleID   json.Number `json:"rule_id"`
	Code     string      `json:"code"`
}

// promoCode creates a coupon whose code Treue derives from the idempotency
// key, under the cart price rule the action names (POST /V1/coupons with type
// 1, "generated", which rules with "Use Auto Generation" accept). A retry
// finds the coupon by its code and stops there, so one action makes one code.
// (POST /V1/coupons/generate would pick a random code that a retry after a
// timeout could not recognize; see README "Actions".)
func (s *session) promoCode(ctx context.Context) error {
	a := s.job.Action
	ruleID, ok := plugin.IntParam(a.Params, "rule_id")
	if !ok || ruleID <= 0 {
		return plugin.Permanentf("magento: promo_code needs params.rule_id, the id of a cart price rule with \"Use Auto Generation\"")
	}
	prefix := defaultCodePrefix
	if _, set := a.Params["prefix"]; set {
		prefix = plugin.StringParam(a.Params, "prefix")
	}
	sec := s.job.Shop.Secrets
	code := plugin.PromoCode(prefix, firstNonEmpty(sec.TokenSecret, sec.APISecret, sec.AccessToken), a.IdempotencyKey)

	accept := func(c *coupon) error {
		if c.RuleID.String() != strconv.FormatInt(ruleID, 10) {
			return plugin.Permanentf("magento: coupon %s exists already under rule %s, not %d", code, c.RuleID, ruleID)
		}
		s.external = code
		return nil
	}
	if c, err := s.findCoupon(ctx, code); err != nil {
		return err
	} else if c != nil {
		s.note("coupon existed already (retry)")
		return accept(c)
	}
	var created coupon
	_, err := s.call(ctx, http.MethodPost, "/V1/coupons", nil, map[string]any{"coupon": map[string]any{
		"rule_id": ruleID, "code": code, "type": 1, "is_primary": false,
	}}, &created)
	if err != nil {
		// A concurrent or timed-out earlier attempt may have won the race:
		// Magento refuses the duplicate code, and the coupon is there.
		if pe, ok := err.(*plugin.Error); ok && pe.Kind == plugin.Permanent && pe.StatusCode != 0 {
			if c, ferr := s.findCoupon(ctx, code); ferr == nil && c != nil {
				s.note("coupon existed already (retry)")
				return accept(c)
			}
		}
		return err
	}
	s.external = code
	return nil
}

func (s *session) findCoupon(ctx context.Context, code string) (*coupon, error) {
	var found struct {
		Items []coupon `json:"items"`
	}
	q := searchCriteria(1, "", [3]string{"code", code, "eq"})
	if _, err := s.call(ctx, http.MethodGet, "/V1/coupons/search", q, nil, &found); err != nil {
		return nil, err
	}
	for _, c := range found.Items {
		if strings.EqualFold(c.Code, code) {
			return &c, nil
		}
	}
	return nil, nil
}

// order is the part of an order Treue reads (fields= keeps the answer small
// and free of addresses).
type order struct {
	EntityID    json.Number `json:"entity_id"`
	IncrementID string      `json:"increment_id"`
	State       string      `json:"state"`
	Status      string      `json:"status"`
}

// sampleGift asks the warehouse, in a comment on the customer's latest open
// order, to add the sample. The comment carries a marker derived from the
// idempotency key and is posted only if no comment has it yet. Without an
// open order the SKU goes into the customer attribute treue_sample_sku, for
// the next order.
func (s *session) sampleGift(ctx context.Context) error {
	a := s.job.Action
	sku := firstNonEmpty(a.SKU, plugin.StringParam(a.Params, "sample_sku"))
	if sku == "" {
		return plugin.Permanentf("magento: sample_gift needs action.sku or params.sample_sku")
	}
	email, err := s.customerEmail(ctx)
	if err != nil {
		return err
	}
	var orders struct {
		Items []order `json:"items"`
	}
	q := searchCriteria(1, "created_at",
		[3]string{"customer_email", email, "eq"},
		[3]string{"state", "new,processing", "in"})
	q.Set("fields", "items[entity_id,increment_id,state,status]")
	if _, err := s.call(ctx, http.MethodGet, "/V1/orders", q, nil, &orders); err != nil {
		return err
	}
	if len(orders.Items) == 0 || orders.Items[0].EntityID == "" {
		s.note("no open order: sample noted on the customer")
		return s.updateCustomer(ctx, func(attrs map[string]string) { attrs[attrSampleSKU] = sku })
	}
	o := orders.Items[0]
	path := "/V1/orders/" + o.EntityID.String() + "/comments"
	sum := sha256.Sum256([]byte(s.job.Shop.Key + "\x00" + a.IdempotencyKey))
	marker := "[treue:" + hex.EncodeToString(sum[:8]) + "]"
	var comments struct {
		Items []struct {
			Comment string `json:"comment"`
		} `json:"items"`
	}
	if _, err := s.call(ctx, http.MethodGet, path, nil, nil, &comments); err != nil {
		return err
	}
	s.external = o.IncrementID
	for _, c := range comments.Items {
		if strings.Contains(c.Comment, marker) {
			s.note("order %s has the sample comment already (retry)", o.IncrementID)
			return nil
		}
	}
	entityID, _ := o.EntityID.Int64()
	_, err = s.call(ctx, http.MethodPost, path, nil, map[string]any{"statusHistory": map[string]any{
		"comment":              fmt.Sprintf("Treue loyalty: please add a free sample of %s to this order. %s", sku, marker),
		"is_customer_notified": 0,
		"is_visible_on_front":  0,
		"parent_id":            entityID,
		// Without a status some versions clear the order's status; keep it.
		"status": o.Status,
	}}, nil)
	return err
}

// points writes the balance and tier the dispatcher computed.
func (s *session) points(ctx context.Context) error {
	p := s.job.Action.Params
	balance := plugin.StringParam(p, "balance")
	if _, err := strconv.ParseFloat(balance, 64); err != nil {
		return plugin.Permanentf("magento: %s needs params.balance, a number", s.job.Action.Type)
	}
	tier := plugin.StringParam(p, "tier")
	return s.updateCustomer(ctx, func(attrs map[string]string) {
		attrs[attrPointsBalance] = balance
		if tier != "" {
			attrs[attrTier] = tier
		}
	})
}

// tagCustomer adds the tag to the comma-separated customer attribute
// treue_tags. Magento has no customer tags; customer groups would change
// prices and tax classes, so they are left alone.
func (s *session) tagCustomer(ctx context.Context) error {
	tag := plugin.StringParam(s.job.Action.Params, "tag")
	if tag == "" || strings.Contains(tag, ",") {
		return plugin.Permanentf("magento: tag_customer needs params.tag, without commas")
	}
	return s.updateCustomer(ctx, func(attrs map[string]string) {
		var tags []string
		for _, t := range strings.Split(attrs[attrTags], ",") {
			if t = strings.TrimSpace(t); t != "" {
				if t == tag {
					return
				}
				tags = append(tags, t)
			}
		}
		attrs[attrTags] = strings.Join(append(tags, tag), ",")
	})
}

// updateCustomer changes custom attributes with GET and then PUT of the whole
// customer: a partial PUT fails ("customer email is missing") or, on older
// versions, resets group_id. Nothing is written when nothing changes, which
// makes a retry free.
func (s *session) updateCustomer(ctx context.Context, change func(attrs map[string]string)) error {
	id, err := s.customerID(ctx)
	if err != nil {
		return err
	}
	path := "/V1/customers/" + id
	var cust map[string]any
	if _, err := s.call(ctx, http.MethodGet, path, nil, nil, &cust); err != nil {
		return err
	}
	list, _ := cust["custom_attributes"].([]any)
	attrs := map[string]string{}
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			if code, ok := m["attribute_code"].(string); ok {
				attrs[code] = fmt.Sprint(m["value"])
			}
		}
	}
	orig := make(map[string]string, len(attrs))
	for k, v := range attrs {
		orig[k] = v
	}
	change(attrs)
	changed := map[string]bool{}
	for k, v := range attrs {
		if o, ok := orig[k]; !ok || o != v {
			changed[k] = true
		}
	}
	if len(changed) == 0 {
		s.note("customer attributes unchanged")
		return nil
	}
	// Only changed values are replaced: the others go back exactly as read.
	out := make([]any, 0, len(list)+len(changed))
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			if code, _ := m["attribute_code"].(string); changed[code] {
				m["value"] = attrs[code]
				delete(changed, code)
			}
		}
		out = append(out, x)
	}
	for _, code := range slices.Sorted(maps.Keys(changed)) {
		out = append(out, map[string]any{"attribute_code": code, "value": attrs[code]})
	}
	cust["custom_attributes"] = out
	_, err = s.call(ctx, http.MethodPut, path, nil, map[string]any{"customer": cust}, nil)
	return err
}

var digits = regexp.MustCompile(`^[0-9]+$`)

// customerID is Magento's customer entity id: given, or found by e-mail.
func (s *session) customerID(ctx context.Context) (string, error) {
	if s.customer != "" {
		return s.customer, nil
	}
	c := s.job.Customer
	if c.ShopCustomerID != "" {
		if !digits.MatchString(c.ShopCustomerID) {
			return "", plugin.Permanentf("magento: customer id %q is not a Magento customer id", c.ShopCustomerID)
		}
		s.customer = c.ShopCustomerID
		return s.customer, nil
	}
	if c.Email == "" {
		return "", plugin.Permanentf("magento: the customer has neither a Magento id nor an e-mail address")
	}
	var found struct {
		Items []struct {
			ID json.Number `json:"id"`
		} `json:"items"`
	}
	if _, err := s.call(ctx, http.MethodGet, "/V1/customers/search", searchCriteria(1, "", [3]string{"email", c.Email, "eq"}), nil, &found); err != nil {
		return "", err
	}
	if len(found.Items) == 0 || found.Items[0].ID == "" {
		return "", plugin.Permanentf("magento: no customer account with the customer's e-mail address in shop %s", s.job.Shop.Key)
	}
	s.customer = found.Items[0].ID.String()
	return s.customer, nil
}

// customerEmail is the e-mail address orders are searched by.
func (s *session) customerEmail(ctx context.Context) (string, error) {
	if e := s.job.Customer.Email; e != "" {
		return e, nil
	}
	id, err := s.customerID(ctx)
	if err != nil {
		return "", err
	}
	var cust struct {
		Email string `json:"email"`
	}
	if _, err := s.call(ctx, http.MethodGet, "/V1/customers/"+id, nil, nil, &cust); err != nil {
		return "", err
	}
	if cust.Email == "" {
		return "", plugin.Permanentf("magento: customer %s has no e-mail address", id)
	}
	return cust.Email, nil
}
