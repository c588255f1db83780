package shopify

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

const discountCreateMutation = `mutation TreueDiscountCode($discount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $discount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}`

const tagsAddMutation = `mutation TreueTagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}`

const metafieldsSetMutation = `mutation TreueMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { namespace key }
    userErrors { field code message }
  }
}`

const customerByEmailQuery = `query TreueCustomerByEmail($query: String!) {
  customers(first: 1, query: $query) { nodes { id } }
}`

// promoCode creates a basic discount code, single use, for this customer
// when Treue knows their Shopify id. The code derives from the idempotency
// key; a retry meets "code must be unique" and counts that as done.
func (s *session) promoCode(ctx context.Context) error {
	a := s.job.Action
	p := a.Params
	var value map[string]any
	if pct := plugin.StringParam(p, "percent"); pct != "" {
		f, err := strconv.ParseFloat(pct, 64)
		if err != nil || f <= 0 || f > 100 {
			return plugin.Permanentf("shopify: params.percent %q must be a number above 0 and at most 100", pct)
		}
		value = map[string]any{"percentage": f / 100}
	} else if amt := plugin.StringParam(p, "amount"); amt != "" {
		if c, ok := models.Money(amt).Cents(); !ok || c <= 0 {
			return plugin.Permanentf("shopify: params.amount %q must be a positive decimal amount", amt)
		}
		value = map[string]any{"discountAmount": map[string]any{"amount": amt, "appliesOnEachItem": false}}
	} else {
		return plugin.Permanentf("shopify: promo_code needs params.percent or params.amount")
	}
	prefix := defaultCodePrefix
	if _, set := p["prefix"]; set {
		prefix = plugin.StringParam(p, "prefix")
	}
	code := plugin.PromoCode(prefix, s.job.Shop.Secrets.AccessToken, a.IdempotencyKey)
	now := s.c.now().UTC().Truncate(time.Second)
	input := map[string]any{
		"title":                  firstNonEmpty(plugin.StringParam(p, "title"), "Treue "+firstNonEmpty(plugin.StringParam(p, "reason"), a.RuleID, "loyalty")+" "+code),
		"code":                   code,
		"startsAt":               now.Format(time.RFC3339),
		"usageLimit":             1,
		"appliesOncePerCustomer": true,
		"customerGets":           map[string]any{"value": value, "items": map[string]any{"all": true}},
		"context":                map[string]any{"all": "ALL"},
	}
	if ends, err := endsAt(p, now); err != nil {
		return err
	} else if !ends.IsZero() {
		input["endsAt"] = ends.Format(time.RFC3339)
	}
	// Restrict the code to the customer only when the id is at hand: a
	// lookup by e-mail is not worth a failure for a code that is single-use anyway.
	if s.job.Customer.ShopCustomerID != "" {
		gid, err := s.customerGID(ctx)
		if err != nil {
			return err
		}
		input["context"] = map[string]any{"customers": map[string]any{"add": []string{gid}}}
	}
	var out struct {
		DiscountCodeBasicCreate struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"discountCodeBasicCreate"`
	}
	if err := s.graphql(ctx, discountCreateMutation, map[string]any{"discount": input}, &out); err != nil {
		return err
	}
	errs := out.DiscountCodeBasicCreate.UserErrors
	if len(errs) > 0 && allCodeTaken(errs) {
		s.note("code existed already (retry)")
		errs = nil
	}
	if err := userErrors("discountCodeBasicCreate", errs); err != nil {
		return err
	}
	s.external = code
	return nil
}

// allCodeTaken reports whether every user error says the code exists.
func allCodeTaken(errs []userError) bool {
	for _, e := range errs {
		onCode := len(e.Field) > 0 && e.Field[len(e.Field)-1] == "code"
		taken := e.Code == "TAKEN" || e.Code == "DUPLICATE" || strings.Contains(strings.ToLower(e.Message), "must be unique")
		if !onCode || !taken {
			return false
		}
	}
	return true
}

// endsAt reads params.ends_at (RFC 3339) or params.valid_for (a duration as
// the rules write it: "30d", "48h", "1d12h").
func endsAt(p map[string]any, now time.Time) (time.Time, error) {
	if s := plugin.StringParam(p, "ends_at"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, plugin.Permanentf("shopify: params.ends_at %q is not RFC 3339", s)
		}
		return t, nil
	}
	s := plugin.StringParam(p, "valid_for")
	if s == "" {
		return time.Time{}, nil
	}
	d, ok := parseDays(s)
	if !ok || d <= 0 {
		return time.Time{}, plugin.Permanentf("shopify: params.valid_for %q is not a duration such as 30d or 48h", s)
	}
	return now.Add(d), nil
}

var daysPrefix = regexp.MustCompile(`^(\d+)d`)

// parseDays is time.ParseDuration plus a leading day count.
func parseDays(s string) (time.Duration, bool) {
	var d time.Duration
	if m := daysPrefix.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 3650 {
			return 0, false
		}
		d = time.Duration(n) * 24 * time.Hour
		s = s[len(m[0]):]
	}
	if s == "" {
		return d, true
	}
	rest, err := time.ParseDuration(s)
	return d + rest, err == nil
}

// sampleGift tags the customer treue-sample-due and stores the SKU in the
// metafield treue.sample_sku, for a Shopify Flow or the merchant to act on.
func (s *session) sampleGift(ctx context.Context) error {
	a := s.job.Action
	sku := firstNonEmpty(a.SKU, plugin.StringParam(a.Params, "sample_sku"))
	if sku == "" {
		return plugin.Permanentf("shopify: sample_gift needs action.sku or params.sample_sku")
	}
	if err := s.addTags(ctx, firstNonEmpty(plugin.StringParam(a.Params, "tag"), tagSampleDue)); err != nil {
		return err
	}
	return s.setMetafields(ctx, map[string][2]string{"sample_sku": {"single_line_text_field", sku}})
}

// points writes metafields treue.points_balance and treue.tier.
func (s *session) points(ctx context.Context) error {
	p := s.job.Action.Params
	bal := plugin.StringParam(p, "balance")
	f, err := strconv.ParseFloat(bal, 64)
	if err != nil || f != float64(int64(f)) {
		return plugin.Permanentf("shopify: %s needs params.balance, a whole number", s.job.Action.Type)
	}
	fields := map[string][2]string{"points_balance": {"number_integer", strconv.FormatInt(int64(f), 10)}}
	if tier := plugin.StringParam(p, "tier"); tier != "" {
		fields["tier"] = [2]string{"single_line_text_field", tier}
	}
	return s.setMetafields(ctx, fields)
}

// addTags adds tags to the customer; tags the customer has stay as they are.
func (s *session) addTags(ctx context.Context, tags ...string) error {
	gid, err := s.customerGID(ctx)
	if err != nil {
		return err
	}
	var out struct {
		TagsAdd struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"tagsAdd"`
	}
	if err := s.graphql(ctx, tagsAddMutation, map[string]any{"id": gid, "tags": tags}, &out); err != nil {
		return err
	}
	return userErrors("tagsAdd", out.TagsAdd.UserErrors)
}

// setMetafields sets customer metafields in namespace treue: key -> {type, value}.
func (s *session) setMetafields(ctx context.Context, fields map[string][2]string) error {
	gid, err := s.customerGID(ctx)
	if err != nil {
		return err
	}
	var inputs []map[string]string
	for _, key := range []string{"points_balance", "tier", "sample_sku"} {
		if f, ok := fields[key]; ok {
			inputs = append(inputs, map[string]string{"ownerId": gid, "namespace": metafieldNS, "key": key, "type": f[0], "value": f[1]})
		}
	}
	var out struct {
		MetafieldsSet struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"metafieldsSet"`
	}
	if err := s.graphql(ctx, metafieldsSetMutation, map[string]any{"metafields": inputs}, &out); err != nil {
		return err
	}
	return userErrors("metafieldsSet", out.MetafieldsSet.UserErrors)
}

var numericID = regexp.MustCompile(`^[0-9]+$`)

// customerGID is the customer's global id: from the Shopify id Treue has, or
// looked up by e-mail.
func (s *session) customerGID(ctx context.Context) (string, error) {
	if s.customer != "" {
		return s.customer, nil
	}
	c := s.job.Customer
	if id := strings.TrimPrefix(c.ShopCustomerID, "gid://shopify/Customer/"); id != "" {
		if !numericID.MatchString(id) {
			return "", plugin.Permanentf("shopify: customer id %q is not a Shopify customer id", c.ShopCustomerID)
		}
		s.customer = "gid://shopify/Customer/" + id
		return s.customer, nil
	}
	if c.Email == "" {
		return "", plugin.Permanentf("shopify: the customer has neither a Shopify id nor an e-mail address")
	}
	q := `email:"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(c.Email) + `"`
	var out struct {
		Customers struct {
			Nodes []struct {
				ID string `json:"id"`
			} `json:"nodes"`
		} `json:"customers"`
	}
	if err := s.graphql(ctx, customerByEmailQuery, map[string]any{"query": q}, &out); err != nil {
		return "", err
	}
	if len(out.Customers.Nodes) == 0 || out.Customers.Nodes[0].ID == "" {
		return "", plugin.Permanentf("shopify: no customer with the customer's e-mail address in shop %s", s.job.Shop.Key)
	}
	s.customer = out.Customers.Nodes[0].ID
	return s.customer, nil
}
