package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/shopcall"
)

// APIVersion is the Admin GraphQL API version the connector speaks.
const APIVersion = "2025-07"

// Tags and metafields Treue sets on customers. Shopify Flow ("Customer tags
// added") and Liquid can act on them.
const (
	tagSampleDue      = "treue-sample-due"
	tagReorderDue     = "treue-reorder-due"
	tagReviewRequest  = "treue-review-request"
	metafieldNS       = "treue"
	defaultCodePrefix = "LOY-"
)

// Connector carries out actions in a Shopify shop through the Admin GraphQL
// API, with the app's offline access token (Secrets.AccessToken) and the
// shop's myshopify.com domain (ExternalID).
//
// Params read per action type:
//   - promo_code: percent or amount (one required), valid_for ("30d", "48h") or
//     ends_at (RFC 3339), prefix (default "LOY-"), title, reason
//   - tag_customer: tag (required)
//   - sample_gift: Action.SKU or sample_sku (stored in metafield treue.sample_sku), tag
//   - points_award, points_revoke: balance (required), tier
//   - reorder_reminder, review_request: tag (defaults treue-reorder-due, treue-review-request)
//
// notify is not supported here; route it to plugin/standard.Notifier.
type Connector struct {
	Client *http.Client
	Now    func() time.Time
	// BaseURL replaces https://{shop domain} (tests, a proxy). Empty in production.
	BaseURL string
}

var _ plugin.Connector = (*Connector)(nil)

// NewConnector returns a connector that sends through client, which should be
// egress.NewClient's.
func NewConnector(client *http.Client) *Connector {
	return &Connector{Client: client, Now: time.Now}
}

// Execute implements plugin.Connector.
func (c *Connector) Execute(ctx context.Context, job plugin.Job) (plugin.Result, error) {
	s, err := c.newSession(job)
	if err != nil {
		return plugin.Result{}, err
	}
	a := job.Action
	switch a.Type {
	case models.ActionPromoCode:
		err = s.promoCode(ctx)
	case models.ActionTagCustomer:
		tag := plugin.StringParam(a.Params, "tag")
		if tag == "" {
			return plugin.Result{}, plugin.Permanentf("shopify: tag_customer needs params.tag")
		}
		err = s.addTags(ctx, tag)
	case models.ActionSampleGift:
		err = s.sampleGift(ctx)
	case models.ActionPointsAward, models.ActionPointsRevoke:
		err = s.points(ctx)
	case models.ActionReorderReminder:
		err = s.addTags(ctx, firstNonEmpty(plugin.StringParam(a.Params, "tag"), tagReorderDue))
	case models.ActionReviewRequest:
		err = s.addTags(ctx, firstNonEmpty(plugin.StringParam(a.Params, "tag"), tagReviewRequest))
	default:
		err = plugin.Permanentf("shopify: action type %q is not supported on Shopify; use notify (the signed webhook connector)", a.Type)
	}
	if err != nil {
		return plugin.Result{}, err
	}
	return s.result(), nil
}

func (c *Connector) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

type session struct {
	c        *Connector
	job      plugin.Job
	endpoint string
	calls    []egress.Exchange
	last     int
	external string
	notes    []string
	customer string
}

// shopDomain is what ExternalID must look like; anything else could point the
// access token at another host.
var shopDomain = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)

func (c *Connector) newSession(job plugin.Job) (*session, error) {
	if job.Shop == nil || job.Action == nil {
		return nil, plugin.Permanentf("shopify: job without shop or action")
	}
	if job.Action.IdempotencyKey == "" {
		return nil, plugin.Permanentf("shopify: action has no idempotency key")
	}
	base, err := c.base(job.Shop)
	if err != nil {
		return nil, err
	}
	return &session{c: c, job: job, endpoint: base + "/admin/api/" + APIVersion + "/graphql.json"}, nil
}

// base is the shop's https://{domain}, checked, for a shop with an access token.
func (c *Connector) base(sh *models.Shop) (string, error) {
	if sh.Secrets.AccessToken == "" {
		return "", plugin.Permanentf("shopify: shop %s has no Admin API access token", sh.Key)
	}
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		domain := strings.ToLower(sh.ExternalID)
		if !shopDomain.MatchString(domain) {
			return "", plugin.Permanentf("shopify: shop %s: %q is not a myshopify.com domain", sh.Key, sh.ExternalID)
		}
		base = "https://" + domain
	}
	return base, nil
}

func (s *session) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

func (s *session) result() plugin.Result {
	parts := append([]string{}, s.notes...)
	for _, e := range s.calls {
		parts = append(parts, e.String())
	}
	return plugin.Result{StatusCode: s.last, Summary: strings.Join(parts, "; "), External: s.external}
}

// gqlResponse is a GraphQL answer; data is decoded by the caller.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
	Extensions struct {
		Cost struct {
			RequestedQueryCost float64 `json:"requestedQueryCost"`
			ThrottleStatus     struct {
				CurrentlyAvailable float64 `json:"currentlyAvailable"`
				RestoreRate        float64 `json:"restoreRate"`
			} `json:"throttleStatus"`
		} `json:"cost"`
	} `json:"extensions"`
}

// graphql posts one operation and decodes data into out. Shopify answers
// most failures with HTTP 200 and an "errors" list: THROTTLED (the cost
// bucket is empty) and INTERNAL_SERVER_ERROR are retried, the rest (access
// denied, a malformed query) are not.
func (s *session) graphql(ctx context.Context, query string, vars map[string]any, out any) error {
	payload, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return plugin.Permanentf("shopify: encode request: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(payload))
	if err != nil {
		return plugin.Permanentf("shopify: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Shopify-Access-Token", s.job.Shop.Secrets.AccessToken)
	r, err := egress.Do(s.c.Client, req)
	if r != nil {
		s.calls = append(s.calls, r.Exchange)
		s.last = r.Status
	}
	now := s.c.now()
	if err != nil {
		return shopcall.Failure(r, err, now, "")
	}
	if !r.OK() {
		var e struct {
			Errors any `json:"errors"`
		}
		detail := ""
		if json.Unmarshal(r.Body, &e) == nil && e.Errors != nil {
			detail = egress.Truncate(fmt.Sprint(e.Errors), 300)
		}
		return shopcall.Failure(r, nil, now, detail)
	}
	var g gqlResponse
	if err := json.Unmarshal(r.Body, &g); err != nil {
		return plugin.Permanentf("shopify: %s: unexpected answer: %v", r.Exchange, err)
	}
	if len(g.Errors) > 0 {
		kind := plugin.Permanent
		var msgs []string
		var after time.Duration
		for _, e := range g.Errors {
			msgs = append(msgs, strings.TrimSpace(e.Extensions.Code+" "+e.Message))
			switch e.Extensions.Code {
			case "THROTTLED":
				kind = plugin.Transient
				after = throttleWait(g)
			case "INTERNAL_SERVER_ERROR":
				kind = plugin.Transient
			}
		}
		return &plugin.Error{Kind: kind, StatusCode: r.Status, RetryAfter: after,
			Err: fmt.Errorf("shopify: %s: %s", r.Exchange, egress.Truncate(strings.Join(msgs, "; "), 300))}
	}
	if out != nil {
		if err := json.Unmarshal(g.Data, out); err != nil {
			return plugin.Permanentf("shopify: %s: unexpected data: %v", r.Exchange, err)
		}
	}
	return nil
}

// throttleWait is how long the leaky bucket needs to refill enough for the
// request, from the cost extension Shopify sends with THROTTLED.
func throttleWait(g gqlResponse) time.Duration {
	c := g.Extensions.Cost
	need := c.RequestedQueryCost - c.ThrottleStatus.CurrentlyAvailable
	if c.ThrottleStatus.RestoreRate <= 0 || need <= 0 {
		return time.Second
	}
	return time.Duration(math.Ceil(need/c.ThrottleStatus.RestoreRate)) * time.Second
}

// userError is the userErrors element of Shopify mutations.
type userError struct {
	Field   []string `json:"field"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
}

func userErrors(op string, errs []userError) error {
	if len(errs) == 0 {
		return nil
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, strings.TrimSpace(strings.Join(e.Field, ".")+" "+e.Code+" "+e.Message))
	}
	return plugin.Permanentf("shopify: %s: %s", op, egress.Truncate(strings.Join(msgs, "; "), 300))
}
