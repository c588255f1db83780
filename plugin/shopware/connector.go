package shopware

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// Names Treue uses inside the shop. Custom fields and flow events are declared
// in Resources/ (custom-fields.xml, the manifest, flow.xml).
const (
	tagSampleDue         = "treue-sample-due"
	fieldSampleSKU       = "treue_sample_sku"
	fieldSampleProductID = "treue_sample_product_id"
	fieldPointsBalance   = "treue_points_balance"
	fieldTier            = "treue_tier"
	eventReorderDue      = "treue.reorder_due"
	eventReviewRequest   = "treue.review_request"
	defaultCodePrefix    = "LOY-"
)

// Connector carries out actions in a Shopware 6 shop through the Admin API,
// with the integration credentials the shop handed over when the app
// registration was confirmed (Shop.URL, Secrets.APIKey, Secrets.APISecret).
// It is safe for concurrent use; OAuth access tokens are cached per shop.
//
// Params read per action type:
//   - promo_code: promotion_id (required), prefix (default "LOY-")
//   - tag_customer: tag (required)
//   - sample_gift: Action.SKU or sample_sku (required), tag (default "treue-sample-due")
//   - points_award, points_revoke: balance (required), tier
//   - reorder_reminder, review_request: sales_channel_id; all params are passed to the flow
//   - notify: flow_event (required: the custom flow trigger to fire), sales_channel_id
type Connector struct {
	Client *http.Client
	Now    func() time.Time

	mu     sync.Mutex
	tokens map[string]accessToken
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
		err = s.tagCustomer(ctx)
	case models.ActionSampleGift:
		err = s.sampleGift(ctx)
	case models.ActionPointsAward, models.ActionPointsRevoke:
		err = s.points(ctx)
	case models.ActionReorderReminder:
		err = s.flow(ctx, eventReorderDue)
	case models.ActionReviewRequest:
		err = s.flow(ctx, eventReviewRequest)
	case models.ActionNotify:
		ev := plugin.StringParam(a.Params, "flow_event")
		if ev == "" {
			return plugin.Result{}, plugin.Permanentf("shopware: notify needs params.flow_event, the custom flow trigger to fire (or send it as a signed webhook)")
		}
		err = s.flow(ctx, ev)
	default:
		err = plugin.Permanentf("shopware: action type %q is not supported", a.Type)
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

// session is one Execute: the shop, and the exchanges made so far for the attempt log.
type session struct {
	c        *Connector
	job      plugin.Job
	base     string
	cacheKey string
	calls    []egress.Exchange
	last     int
	external string
	notes    []string
	customer string
}

func (c *Connector) newSession(job plugin.Job) (*session, error) {
	if job.Shop == nil || job.Action == nil {
		return nil, plugin.Permanentf("shopware: job without shop or action")
	}
	if job.Action.IdempotencyKey == "" {
		return nil, plugin.Permanentf("shopware: action has no idempotency key")
	}
	s, err := c.sessionFor(job.Shop)
	if err != nil {
		return nil, err
	}
	s.job = job
	return s, nil
}

// sessionFor is a session with sh's Admin API base and credentials checked.
func (c *Connector) sessionFor(sh *models.Shop) (*session, error) {
	if sh.URL == "" || sh.Secrets.APIKey == "" || sh.Secrets.APISecret == "" {
		return nil, plugin.Permanentf("shopware: shop %s has no Admin API credentials (app registration not confirmed?)", sh.Key)
	}
	base := strings.TrimRight(sh.URL, "/")
	return &session{c: c, job: plugin.Job{Shop: sh}, base: base, cacheKey: sh.Key + "\n" + base + "\n" + sh.Secrets.APIKey}, nil
}

func (s *session) record(r *egress.Response) {
	if r != nil {
		s.calls = append(s.calls, r.Exchange)
		s.last = r.Status
	}
}

func (s *session) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

func (s *session) result() plugin.Result {
	parts := make([]string, 0, len(s.calls)+len(s.notes))
	parts = append(parts, s.notes...)
	for _, e := range s.calls {
		parts = append(parts, e.String())
	}
	return plugin.Result{StatusCode: s.last, Summary: strings.Join(parts, "; "), External: s.external}
}

// idNamespace scopes Treue's name-based UUIDs.
var idNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/treue/treue/plugin/shopware"))

// deterministicID is a Shopware entity id (32 hex digits) derived from parts,
// so that a retried create names the same entity and meets a duplicate-key
// answer instead of creating a second one.
func deterministicID(parts ...string) string {
	return strings.ReplaceAll(uuid.NewSHA1(idNamespace, []byte(strings.Join(parts, "\x00"))).String(), "-", "")
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// numberParam reads a numeric parameter as int64 when it is whole, float64
// otherwise. Params arrive from YAML (int), JSON (float64, json.Number) or text.
func numberParam(p map[string]any, key string) (any, bool) {
	var f float64
	switch v := p[key].(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case float64:
		f = v
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, true
		}
		var err error
		if f, err = v.Float64(); err != nil {
			return nil, false
		}
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return nil, false
		}
	default:
		return nil, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), true
	}
	return f, true
}

// apiError is Shopware's error document.
type apiError struct {
	Errors []struct {
		Code   string `json:"code"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

func parseAPIError(body []byte) apiError {
	var e apiError
	_ = json.Unmarshal(body, &e)
	return e
}

// errorDetail is the shop's error text for the attempt log: codes and details,
// never the request (which holds no secrets either, but may hold an e-mail).
func errorDetail(body []byte) string {
	e := parseAPIError(body)
	var parts []string
	for i, x := range e.Errors {
		if i == 2 {
			break
		}
		parts = append(parts, strings.TrimSpace(x.Code+" "+firstNonEmpty(x.Detail, x.Title)))
	}
	if len(parts) == 0 {
		return egress.Truncate(string(body), 200)
	}
	return egress.Truncate(strings.Join(parts, "; "), 300)
}

// isDuplicate recognizes Shopware's answer to a create whose primary key
// exists already: the DAL turns the insert into an update and refuses it
// (FRAMEWORK__WRITE_TYPE_INTEND_ERROR; 400 since 6.5, 500 before), or MySQL
// reports a duplicate unique key.
func isDuplicate(r *egress.Response) bool {
	if r == nil || r.OK() {
		return false
	}
	for _, x := range parseAPIError(r.Body).Errors {
		if x.Code == "FRAMEWORK__WRITE_TYPE_INTEND_ERROR" || strings.Contains(x.Detail, "Duplicate entry") {
			return true
		}
	}
	return false
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
