package shopware

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/treue/treue/plugin"
)

// promoCode writes an individual code into the promotion the rule names. Id and
// code both derive from the idempotency key: a retry after a timeout posts the
// same id, Shopware answers "duplicate", and the code stored the first time is
// read back and reported.
func (s *session) promoCode(ctx context.Context) error {
	a := s.job.Action
	promotionID := strings.ToLower(plugin.StringParam(a.Params, "promotion_id"))
	if promotionID == "" {
		return plugin.Permanentf("shopware: promo_code needs params.promotion_id (the promotion with individual codes that the code belongs to)")
	}
	if !hexID.MatchString(promotionID) {
		return plugin.Permanentf("shopware: params.promotion_id %q is not a Shopware id (32 hex digits)", promotionID)
	}
	prefix := plugin.StringParam(a.Params, "prefix")
	if _, set := a.Params["prefix"]; !set {
		prefix = defaultCodePrefix
	}
	code := plugin.PromoCode(prefix, s.job.Shop.Secrets.APISecret, a.IdempotencyKey)
	id := deterministicID("promotion-individual-code", s.job.Shop.Key, a.IdempotencyKey)
	r, err := s.call(ctx, http.MethodPost, "/api/promotion-individual-code",
		map[string]any{"id": id, "promotionId": promotionID, "code": code}, write, nil)
	if err != nil {
		if !isDuplicate(r) {
			return err
		}
		// The first attempt went through. Report what is stored: the code would
		// differ if the shop's credentials were rotated in between.
		var got struct {
			Data struct {
				Code string `json:"code"`
			} `json:"data"`
		}
		if _, err := s.call(ctx, http.MethodGet, "/api/promotion-individual-code/"+id, nil, read, &got); err != nil {
			return err
		}
		if got.Data.Code != "" {
			code = got.Data.Code
		}
		s.note("code existed already (retry)")
	}
	s.external = code
	return nil
}

// tagCustomer adds a tag to the customer; adding it twice changes nothing.
func (s *session) tagCustomer(ctx context.Context) error {
	name := plugin.StringParam(s.job.Action.Params, "tag")
	if name == "" {
		return plugin.Permanentf("shopware: tag_customer needs params.tag")
	}
	return s.addTag(ctx, name)
}

// sampleGift marks the customer for a free sample in the next order: the tag
// treue-sample-due (for Rule Builder and the merchant's eyes) and the custom
// fields the cart script Resources/scripts/cart/treue-sample-gift.twig reads.
func (s *session) sampleGift(ctx context.Context) error {
	a := s.job.Action
	sku := firstNonEmpty(a.SKU, plugin.StringParam(a.Params, "sample_sku"))
	if sku == "" {
		return plugin.Permanentf("shopware: sample_gift needs action.sku or params.sample_sku")
	}
	productID, err := s.productID(ctx, sku)
	if err != nil {
		return err
	}
	tag := firstNonEmpty(plugin.StringParam(a.Params, "tag"), tagSampleDue)
	if err := s.addTag(ctx, tag); err != nil {
		return err
	}
	return s.setCustomFields(ctx, map[string]any{fieldSampleSKU: sku, fieldSampleProductID: productID})
}

// points writes the balance and tier the dispatcher computed. Absolute values
// make a repeated write harmless.
func (s *session) points(ctx context.Context) error {
	p := s.job.Action.Params
	balance, ok := numberParam(p, "balance")
	if !ok {
		return plugin.Permanentf("shopware: %s needs params.balance, a number", s.job.Action.Type)
	}
	fields := map[string]any{fieldPointsBalance: balance}
	if tier := plugin.StringParam(p, "tier"); tier != "" {
		fields[fieldTier] = tier
	}
	return s.setCustomFields(ctx, fields)
}

// flowEventName is the pattern flow-1.0.xsd allows for <flow-event><name>.
var flowEventName = regexp.MustCompile(`^[a-z][a-z._]*[a-z]$`)

// flow fires one of the app's custom flow triggers (declared in
// Resources/flow.xml). The merchant builds the flow: mail, tag, and so on.
// Shopware cannot deduplicate a trigger; idempotencyKey is passed along so a
// flow that calls out can. See README "Actions".
func (s *session) flow(ctx context.Context, event string) error {
	if !flowEventName.MatchString(event) {
		return plugin.Permanentf("shopware: %q is not a flow event name", event)
	}
	cust, err := s.customerID(ctx)
	if err != nil {
		return err
	}
	a := s.job.Action
	data := map[string]any{
		"customerId":     cust,
		"idempotencyKey": a.IdempotencyKey,
		"treueActionId":  a.PublicID,
		"ruleId":         a.RuleID,
	}
	if sc := plugin.StringParam(a.Params, "sales_channel_id"); sc != "" {
		data["salesChannelId"] = sc
	}
	for k, v := range map[string]string{"sku": a.SKU, "orderRef": a.OrderRef, "category": a.Category} {
		if v != "" {
			data[k] = v
		}
	}
	params := map[string]any{}
	for k, v := range a.Params {
		if k != "flow_event" && k != "sales_channel_id" {
			params[k] = v
		}
	}
	data["params"] = params
	// mailAware: lets a "send mail" action in the flow use its default recipient.
	if c := s.job.Customer; c.Email != "" {
		data["mailStruct"] = map[string]any{
			"recipients": map[string]string{c.Email: strings.TrimSpace(c.FirstName + " " + c.LastName)},
		}
	}
	_, err = s.call(ctx, http.MethodPost, "/api/_action/trigger-event/"+url.PathEscape(event), data, trigger, nil)
	return err
}

// addTag finds or creates the tag and links it to the customer.
func (s *session) addTag(ctx context.Context, name string) error {
	cust, err := s.customerID(ctx)
	if err != nil {
		return err
	}
	tagID, err := s.tagID(ctx, name)
	if err != nil {
		return err
	}
	r, err := s.call(ctx, http.MethodPost, "/api/customer/"+cust+"/tags", map[string]string{"id": tagID}, write, nil)
	if err != nil {
		if !isDuplicate(r) {
			return err
		}
		s.note("customer had tag %q already", name)
	}
	return nil
}

// tagID searches the tag by name and creates it when missing, with an id
// derived from the name: two racing creates name the same entity, and
// {"tags":[{"name":…}]} (which makes a new tag on every call) is avoided.
func (s *session) tagID(ctx context.Context, name string) (string, error) {
	var found searchResult
	_, err := s.call(ctx, http.MethodPost, "/api/search/tag", map[string]any{
		"filter":   []map[string]any{{"type": "equals", "field": "name", "value": name}},
		"limit":    1,
		"includes": map[string][]string{"tag": {"id", "name"}},
	}, read, &found)
	if err != nil {
		return "", err
	}
	if id := found.firstID(); id != "" {
		return id, nil
	}
	id := deterministicID("tag", name)
	r, err := s.call(ctx, http.MethodPost, "/api/tag", map[string]string{"id": id, "name": name}, write, nil)
	if err != nil && !isDuplicate(r) {
		return "", err
	}
	return id, nil
}

// customerID is the shop's id of the job's customer: given, or looked up by
// e-mail (registered accounts before guest accounts, newest first).
func (s *session) customerID(ctx context.Context) (string, error) {
	if s.customer != "" {
		return s.customer, nil
	}
	c := s.job.Customer
	if id := strings.ToLower(c.ShopCustomerID); id != "" {
		if !hexID.MatchString(id) {
			return "", plugin.Permanentf("shopware: customer id %q is not a Shopware id", c.ShopCustomerID)
		}
		s.customer = id
		return id, nil
	}
	if c.Email == "" {
		return "", plugin.Permanentf("shopware: the customer has neither a Shopware id nor an e-mail address")
	}
	var found searchResult
	_, err := s.call(ctx, http.MethodPost, "/api/search/customer", map[string]any{
		"filter":   []map[string]any{{"type": "equals", "field": "email", "value": c.Email}},
		"sort":     []map[string]string{{"field": "guest", "order": "ASC"}, {"field": "createdAt", "order": "DESC"}},
		"limit":    1,
		"includes": map[string][]string{"customer": {"id"}},
	}, read, &found)
	if err != nil {
		return "", err
	}
	if s.customer = found.firstID(); s.customer == "" {
		return "", plugin.Permanentf("shopware: no customer with the customer's e-mail address in shop %s", s.job.Shop.Key)
	}
	return s.customer, nil
}

// productID looks a product (or variant) up by its product number.
func (s *session) productID(ctx context.Context, sku string) (string, error) {
	var found searchResult
	_, err := s.call(ctx, http.MethodPost, "/api/search/product", map[string]any{
		"filter":   []map[string]any{{"type": "equals", "field": "productNumber", "value": sku}},
		"limit":    1,
		"includes": map[string][]string{"product": {"id"}},
	}, read, &found)
	if err != nil {
		return "", err
	}
	id := found.firstID()
	if id == "" {
		return "", plugin.Permanentf("shopware: no product with product number %q", sku)
	}
	return id, nil
}

// setCustomFields merges fields into the customer's custom fields (Shopware
// merges the JSON keys; other fields stay).
func (s *session) setCustomFields(ctx context.Context, fields map[string]any) error {
	cust, err := s.customerID(ctx)
	if err != nil {
		return err
	}
	_, err = s.call(ctx, http.MethodPatch, "/api/customer/"+cust, map[string]any{"customFields": fields}, write, nil)
	return err
}

// searchResult is the application/json answer of POST /api/search/{entity}.
type searchResult struct {
	Total int `json:"total"`
	Data  []struct {
		ID string `json:"id"`
	} `json:"data"`
}

func (r searchResult) firstID() string {
	if len(r.Data) == 0 {
		return ""
	}
	return r.Data[0].ID
}
