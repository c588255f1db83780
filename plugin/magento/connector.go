package magento

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/shopcall"
)

// Connector carries out actions in a Magento 2 / Adobe Commerce shop through
// the REST API (Shop.URL + /rest/V1/…) with an integration's credentials.
//
// Authentication: when Secrets.APIKey (the consumer key) is set, every request
// is signed with OAuth 1.0a HMAC-SHA256 using all four integration secrets
// (APIKey = consumer key, APISecret = consumer secret, AccessToken,
// TokenSecret). When APIKey is empty, Secrets.AccessToken is sent as
// "Authorization: Bearer", which Magento 2.4.4+ accepts only after the
// merchant enabled Stores > Configuration > Services > OAuth > "Allow OAuth
// Access Tokens to be used as standalone Bearer tokens".
//
// Params read per action type:
//   - promo_code: rule_id (required; a cart price rule with "Use Auto Generation"), prefix (default "LOY-")
//   - sample_gift: Action.SKU or sample_sku (required)
//   - points_award, points_revoke: balance (required), tier
//   - tag_customer: tag (required)
//
// Other action types are not supported on Magento; route them to the signed
// webhook notifier (plugin/standard.Notifier).
type Connector struct {
	Client *http.Client
	Now    func() time.Time
	// Nonce returns a fresh oauth_nonce; nil means 16 random bytes in hex.
	Nonce func() string
}

var _ plugin.Connector = (*Connector)(nil)

// NewConnector returns a connector that sends through client, which should be
// egress.NewClient's.
func NewConnector(client *http.Client) *Connector {
	return &Connector{Client: client, Now: time.Now}
}

// Customer attributes Treue writes. They must exist as customer EAV attributes
// (see README "Actions"); Magento ignores unknown custom attributes on save.
const (
	attrPointsBalance = "treue_points_balance"
	attrTier          = "treue_tier"
	attrSampleSKU     = "treue_sample_sku"
	attrTags          = "treue_tags"
	defaultCodePrefix = "LOY-"
)

// Execute implements plugin.Connector.
func (c *Connector) Execute(ctx context.Context, job plugin.Job) (plugin.Result, error) {
	s, err := c.newSession(job)
	if err != nil {
		return plugin.Result{}, err
	}
	switch t := job.Action.Type; t {
	case models.ActionPromoCode:
		err = s.promoCode(ctx)
	case models.ActionSampleGift:
		err = s.sampleGift(ctx)
	case models.ActionPointsAward, models.ActionPointsRevoke:
		err = s.points(ctx)
	case models.ActionTagCustomer:
		err = s.tagCustomer(ctx)
	default:
		err = plugin.Permanentf("magento: action type %q is not supported on Magento; use notify (the signed webhook connector)", t)
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

func (c *Connector) nonce() string {
	if c.Nonce != nil {
		return c.Nonce()
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b) // 32 characters: Magento refuses longer nonces
}

// session is one Execute and its exchanges, for the attempt log.
type session struct {
	c        *Connector
	job      plugin.Job
	base     string // …/rest
	bearer   bool
	calls    []egress.Exchange
	last     int
	external string
	notes    []string
	customer string
}

// restSuffix matches a shop URL that already names the REST entry point,
// optionally with a store code: https://shop.example/rest/default.
var restSuffix = regexp.MustCompile(`/rest(/[A-Za-z0-9_]+)?$`)

func (c *Connector) newSession(job plugin.Job) (*session, error) {
	if job.Shop == nil || job.Action == nil {
		return nil, plugin.Permanentf("magento: job without shop or action")
	}
	if job.Action.IdempotencyKey == "" {
		return nil, plugin.Permanentf("magento: action has no idempotency key")
	}
	s, err := c.sessionFor(job.Shop)
	if err != nil {
		return nil, err
	}
	s.job = job
	return s, nil
}

// sessionFor is a session with sh's REST base and credentials checked.
func (c *Connector) sessionFor(sh *models.Shop) (*session, error) {
	job := plugin.Job{Shop: sh}
	sec := sh.Secrets
	if sh.URL == "" {
		return nil, plugin.Permanentf("magento: shop %s has no URL", sh.Key)
	}
	s := &session{c: c, job: job, base: strings.TrimRight(sh.URL, "/")}
	if !restSuffix.MatchString(s.base) {
		s.base += "/rest"
	}
	switch {
	case sec.APIKey != "":
		if sec.APISecret == "" || sec.AccessToken == "" || sec.TokenSecret == "" {
			return nil, plugin.Permanentf("magento: shop %s: OAuth needs the consumer key and secret and the access token and its secret", sh.Key)
		}
	case sec.AccessToken != "":
		s.bearer = true
	default:
		return nil, plugin.Permanentf("magento: shop %s has no integration credentials", sh.Key)
	}
	return s, nil
}

// call sends one REST request: path below /rest (for example /V1/coupons),
// query parameters, a JSON body. A 2xx answer is decoded into out (numbers as
// json.Number, so a customer read and written back keeps them exact).
func (s *session) call(ctx context.Context, method, path string, query url.Values, body any, out any) (*egress.Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, plugin.Permanentf("magento: encode %s %s: %v", method, path, err)
		}
	}
	raw := s.base + path
	if len(query) > 0 {
		raw += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, raw, bytes.NewReader(payload))
	if err != nil {
		return nil, plugin.Permanentf("magento: %s %s: %v", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sec := s.job.Shop.Secrets
	if s.bearer {
		req.Header.Set("Authorization", "Bearer "+sec.AccessToken)
	} else {
		cred := oauthCredentials{sec.APIKey, sec.APISecret, sec.AccessToken, sec.TokenSecret}
		req.Header.Set("Authorization", oauthHeader(method, req.URL, cred, "HMAC-SHA256", sha256.New, s.c.nonce(), s.c.now().Unix()))
	}
	r, err := egress.Do(s.c.Client, req)
	if r != nil {
		s.calls = append(s.calls, r.Exchange)
		s.last = r.Status
	}
	if err != nil {
		return r, shopcall.Failure(r, err, s.c.now(), "")
	}
	if !r.OK() {
		return r, shopcall.Failure(r, nil, s.c.now(), s.errorDetail(r))
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(r.Body))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return r, plugin.Permanentf("magento: %s: unexpected answer: %v", r.Exchange, err)
		}
	}
	return r, nil
}

// errorDetail renders Magento's {"message":"… %1 …","parameters":[…]} and
// adds a hint for the authorization error that looks like an ACL problem.
func (s *session) errorDetail(r *egress.Response) string {
	var e struct {
		Message    string          `json:"message"`
		Parameters json.RawMessage `json:"parameters"`
	}
	if json.Unmarshal(r.Body, &e) != nil || e.Message == "" {
		return egress.Truncate(string(r.Body), 200)
	}
	msg := e.Message
	var list []any
	var named map[string]any
	if json.Unmarshal(e.Parameters, &list) == nil {
		for i, v := range list {
			msg = strings.ReplaceAll(msg, "%"+strconv.Itoa(i+1), fmt.Sprint(v))
		}
	} else if json.Unmarshal(e.Parameters, &named) == nil {
		for k, v := range named {
			msg = strings.ReplaceAll(msg, "%"+k, fmt.Sprint(v))
		}
	}
	if r.Status == http.StatusUnauthorized {
		if s.bearer {
			msg += " (bearer mode: is \"Allow OAuth Access Tokens to be used as standalone Bearer tokens\" enabled, and does the integration have this resource?)"
		} else {
			msg += " (check the integration's four credentials, its resource access, and the shop's clock)"
		}
	}
	return egress.Truncate(msg, 300)
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

// searchCriteria builds Magento's searchCriteria query parameters: each filter
// is its own filter group (groups are ANDed). Indexes stay below ten: Magento
// sorts the signed parameters with PHP's natural order, which differs from
// byte order only for numbers of two or more digits.
func searchCriteria(pageSize int, sortField string, filters ...[3]string) url.Values {
	q := url.Values{}
	for i, f := range filters {
		p := fmt.Sprintf("searchCriteria[filter_groups][%d][filters][0]", i)
		q.Set(p+"[field]", f[0])
		q.Set(p+"[value]", f[1])
		q.Set(p+"[condition_type]", f[2])
	}
	if sortField != "" {
		q.Set("searchCriteria[sortOrders][0][field]", sortField)
		q.Set("searchCriteria[sortOrders][0][direction]", "DESC")
	}
	q.Set("searchCriteria[pageSize]", strconv.Itoa(pageSize))
	return q
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
