package magento

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// verifyMagentoOAuth checks an Authorization header the way Magento does
// (Framework/Oauth/Helper/Request::_processRequest and the HMAC-SHA256 signer),
// written separately from the connector's signer: header values are
// rawurldecoded, query parameters are split on & and = and urldecoded, every
// name and value is rawurlencoded, the pairs are sorted by name, and the
// base URI drops the query.
func verifyMagentoOAuth(method string, u *url.URL, header string, cred oauthCredentials) error {
	rest, ok := strings.CutPrefix(header, "OAuth ")
	if !ok {
		return errors.New("not an OAuth header")
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.HasPrefix(k, "oauth_") {
			continue
		}
		v, err := url.PathUnescape(strings.Trim(v, `"`))
		if err != nil {
			return err
		}
		params[k] = v
	}
	sig := params["oauth_signature"]
	delete(params, "oauth_signature")
	switch {
	case params["oauth_consumer_key"] != cred.ConsumerKey:
		return errors.New("unknown consumer")
	case params["oauth_token"] != cred.Token:
		return errors.New("unknown token")
	case params["oauth_signature_method"] != "HMAC-SHA256":
		return errors.New("signature method " + params["oauth_signature_method"])
	case params["oauth_version"] != "1.0":
		return errors.New("version " + params["oauth_version"])
	case params["oauth_nonce"] == "" || len(params["oauth_nonce"]) > 32:
		return errors.New("bad nonce")
	}
	if u.RawQuery != "" {
		for _, pv := range strings.Split(u.RawQuery, "&") {
			kv := strings.Split(pv, "=")
			if len(kv) == 2 {
				k, _ := url.QueryUnescape(kv[0])
				v, _ := url.QueryUnescape(kv[1])
				params[k] = v
			}
		}
	}
	raw := func(s string) string { // PHP rawurlencode
		var b strings.Builder
		for _, c := range []byte(s) {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	enc := map[string]string{}
	var keys []string
	for k, v := range params {
		enc[raw(k)] = raw(v)
		keys = append(keys, raw(k))
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, k+"="+enc[k])
	}
	base := strings.ToUpper(method) + "&" + raw(u.Scheme+"://"+u.Host+u.Path) + "&" + raw(strings.Join(pairs, "&"))
	m := hmac.New(sha256.New, []byte(raw(cred.ConsumerSecret)+"&"+raw(cred.TokenSecret)))
	m.Write([]byte(base))
	if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); !hmac.Equal([]byte(want), []byte(sig)) {
		return errors.New("The signature is invalid. Verify and try again.")
	}
	return nil
}

// fakeMagento is a hand-written Magento REST API with the endpoints the
// connector uses. It verifies every OAuth signature (or the bearer token when
// bearer mode is on) and checks request shapes.
type fakeMagento struct {
	t   *testing.T
	srv *httptest.Server
	now time.Time

	mu          sync.Mutex
	cred        oauthCredentials
	allowBearer bool
	nonces      map[string]bool
	rules       map[string]bool // rule id -> use auto generation
	coupons     map[string]string
	hideCoupons bool // the next search misses coupons, as if one was created concurrently
	orders      []map[string]any
	comments    map[string][]string
	customers   map[string]map[string]any
	puts        int
	requests    []string
	fault       func(w http.ResponseWriter, r *http.Request) bool
	// sales, when set, answers the order reader's searches: GET orders,
	// invoices, shipments, creditmemos and returns (missing: 404, as
	// Magento Open Source answers /V1/returns).
	sales    map[string][]map[string]any
	searches []url.Values
}

func newFakeMagento(t *testing.T, now time.Time) *fakeMagento {
	f := &fakeMagento{
		t: t, now: now,
		cred:     oauthCredentials{"consumer-key", "consumer-secret", "access-token", "token-secret"},
		nonces:   map[string]bool{},
		rules:    map[string]bool{"42": true, "7": false},
		coupons:  map[string]string{},
		comments: map[string][]string{},
		customers: map[string]map[string]any{"77": {
			"id": json.Number("77"), "group_id": json.Number("4"), "email": "anna@example.com",
			"firstname": "Anna", "lastname": "Beispiel", "store_id": json.Number("1"), "website_id": json.Number("1"),
			"addresses":         []any{map[string]any{"id": json.Number("5"), "city": "Köln", "default_billing": true}},
			"custom_attributes": []any{map[string]any{"attribute_code": "treue_tags", "value": "vip"}, map[string]any{"attribute_code": "newsletter_source", "value": "shop"}},
		}},
		orders: []map[string]any{
			{"entity_id": 1041, "increment_id": "000001041", "state": "complete", "status": "complete", "customer_email": "anna@example.com", "created_at": "2026-02-01 10:00:00"},
			{"entity_id": 1042, "increment_id": "000001042", "state": "processing", "status": "processing", "customer_email": "anna@example.com", "created_at": "2026-03-01 10:00:00"},
			{"entity_id": 1043, "increment_id": "000001043", "state": "new", "status": "pending", "customer_email": "other@example.com", "created_at": "2026-03-01 11:00:00"},
		},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func mgError(w http.ResponseWriter, status int, msg string, params ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if params == nil {
		params = []any{}
	}
	json.NewEncoder(w).Encode(map[string]any{"message": msg, "parameters": params})
}

func mgJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *fakeMagento) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	fault := f.fault
	f.mu.Unlock()
	if fault != nil && fault(w, r) {
		return
	}
	if !f.authenticate(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	if len(body) > 0 {
		if r.Header.Get("Content-Type") != "application/json" {
			f.t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		if err := dec.Decode(&in); err != nil {
			mgError(w, 400, "Decoding error: %1", err.Error())
			return
		}
	}
	q := r.URL.Query()
	path, ok := strings.CutPrefix(r.URL.Path, "/rest/V1/")
	if !ok {
		mgError(w, 404, "Request does not match any route.")
		return
	}
	parts := strings.Split(path, "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	if list, ok := f.sales[path]; ok && r.Method == http.MethodGet {
		f.searchSales(w, q, path, list)
		return
	} else if f.sales != nil && r.Method == http.MethodGet && path == "returns" {
		mgError(w, 404, "Request does not match any route.")
		return
	}
	switch {
	case r.Method == http.MethodGet && path == "coupons/search":
		code := f.filter(q, 0, "code", "eq")
		items := []map[string]any{}
		if rule, ok := f.coupons[code]; ok && !f.hideCoupons {
			items = append(items, map[string]any{"coupon_id": 9, "rule_id": json.Number(rule), "code": code, "type": 1})
		}
		f.hideCoupons = false
		mgJSON(w, map[string]any{"items": items, "total_count": len(items)})
	case r.Method == http.MethodPost && path == "coupons":
		c, _ := in["coupon"].(map[string]any)
		rule := fmt.Sprint(c["rule_id"])
		code, _ := c["code"].(string)
		if len(in) != 1 || code == "" || fmt.Sprint(c["type"]) != "1" || c["is_primary"] != false {
			mgError(w, 400, "bad coupon %1", fmt.Sprint(in))
			return
		}
		auto, known := f.rules[rule]
		switch {
		case !known:
			mgError(w, 404, "No such entity with %fieldName = %fieldValue", map[string]any{"fieldName": "rule_id", "fieldValue": rule})
		case !auto:
			mgError(w, 400, "Error occurred when saving coupon: %1", "Specified rule does not allow auto generated coupons")
		case f.coupons[code] != "":
			mgError(w, 400, "Coupon with the same code already exists.")
		default:
			f.coupons[code] = rule
			f.hideCoupons = false
			mgJSON(w, map[string]any{"coupon_id": 9, "rule_id": json.Number(rule), "code": code, "type": 1})
		}
	case r.Method == http.MethodGet && path == "orders":
		email := f.filter(q, 0, "customer_email", "eq")
		states := strings.Split(f.filter(q, 1, "state", "in"), ",")
		if q.Get("searchCriteria[sortOrders][0][field]") != "created_at" || q.Get("searchCriteria[sortOrders][0][direction]") != "DESC" ||
			q.Get("searchCriteria[pageSize]") != "1" || q.Get("fields") != "items[entity_id,increment_id,state,status]" {
			f.t.Errorf("orders query %v", q)
		}
		var best map[string]any
		for _, o := range f.orders {
			if o["customer_email"] == email && containsStr(states, o["state"].(string)) &&
				(best == nil || o["created_at"].(string) > best["created_at"].(string)) {
				best = o
			}
		}
		items := []map[string]any{}
		if best != nil {
			items = append(items, map[string]any{"entity_id": best["entity_id"], "increment_id": best["increment_id"], "state": best["state"], "status": best["status"]})
		}
		mgJSON(w, map[string]any{"items": items})
	case len(parts) == 3 && parts[0] == "orders" && parts[2] == "comments" && r.Method == http.MethodGet:
		items := []map[string]any{}
		for _, c := range f.comments[parts[1]] {
			items = append(items, map[string]any{"comment": c, "parent_id": parts[1]})
		}
		mgJSON(w, map[string]any{"items": items, "total_count": len(items)})
	case len(parts) == 3 && parts[0] == "orders" && parts[2] == "comments" && r.Method == http.MethodPost:
		h, _ := in["statusHistory"].(map[string]any)
		c, _ := h["comment"].(string)
		if c == "" || fmt.Sprint(h["parent_id"]) != parts[1] || fmt.Sprint(h["is_customer_notified"]) != "0" || h["status"] == "" {
			mgError(w, 400, "bad status history %1", fmt.Sprint(h))
			return
		}
		f.comments[parts[1]] = append(f.comments[parts[1]], c)
		mgJSON(w, true)
	case r.Method == http.MethodGet && path == "customers/search":
		email := f.filter(q, 0, "email", "eq")
		items := []map[string]any{}
		for _, c := range f.customers {
			if c["email"] == email {
				items = append(items, map[string]any{"id": c["id"], "email": email})
			}
		}
		mgJSON(w, map[string]any{"items": items, "total_count": len(items)})
	case len(parts) == 2 && parts[0] == "customers" && r.Method == http.MethodGet:
		c, ok := f.customers[parts[1]]
		if !ok {
			mgError(w, 404, "No such entity with %fieldName = %fieldValue", map[string]any{"fieldName": "customerId", "fieldValue": parts[1]})
			return
		}
		mgJSON(w, c)
	case len(parts) == 2 && parts[0] == "customers" && r.Method == http.MethodPut:
		c, _ := in["customer"].(map[string]any)
		for _, k := range []string{"email", "firstname", "lastname", "group_id", "website_id", "addresses"} {
			if _, ok := c[k]; !ok {
				mgError(w, 400, "\"%fieldName\" is required. Enter and try again.", map[string]any{"fieldName": k})
				return
			}
		}
		f.customers[parts[1]] = c
		f.puts++
		mgJSON(w, c)
	default:
		mgError(w, 404, "Request does not match any route.")
	}
}

// filter returns searchCriteria filter group i's value, checking field and condition.
func (f *fakeMagento) filter(q url.Values, i int, field, cond string) string {
	p := "searchCriteria[filter_groups][" + strconv.Itoa(i) + "][filters][0]"
	if q.Get(p+"[field]") != field || q.Get(p+"[condition_type]") != cond {
		f.t.Errorf("filter group %d = %s %s, want %s %s", i, q.Get(p+"[field]"), q.Get(p+"[condition_type]"), field, cond)
	}
	return q.Get(p + "[value]")
}

func (f *fakeMagento) authenticate(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	f.mu.Lock()
	defer f.mu.Unlock()
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		if f.allowBearer && tok == f.cred.Token {
			return true
		}
		mgError(w, 401, "The consumer isn't authorized to access %resources.", map[string]any{"resources": "Magento_Sales::sales"})
		return false
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	if err := verifyMagentoOAuth(r.Method, &u, h, f.cred); err != nil {
		mgError(w, 401, err.Error())
		return false
	}
	params := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(h, "OAuth "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		params[k] = strings.Trim(v, `"`)
	}
	ts, _ := strconv.ParseInt(params["oauth_timestamp"], 10, 64)
	if d := f.now.Sub(time.Unix(ts, 0)); d > 600*time.Second || d < -600*time.Second {
		mgError(w, 401, "The timestamp is out of range")
		return false
	}
	if f.nonces[params["oauth_nonce"]] {
		mgError(w, 401, "The nonce is already being used by the consumer with ID %1.", "1")
		return false
	}
	f.nonces[params["oauth_nonce"]] = true
	return true
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// attr reads a customer attribute; the caller holds f.mu.
func (f *fakeMagento) attr(id, code string) any {
	list, _ := f.customers[id]["custom_attributes"].([]any)
	for _, x := range list {
		if m, ok := x.(map[string]any); ok && m["attribute_code"] == code {
			return m["value"]
		}
	}
	return nil
}

// searchSales answers a sales search: orders by updated_at gteq, sorted by
// entity_id, paged with currentPage (past the last page Magento repeats the
// last one); the others by order_id in (…).
func (f *fakeMagento) searchSales(w http.ResponseWriter, q url.Values, path string, list []map[string]any) {
	f.searches = append(f.searches, q)
	size, _ := strconv.Atoi(q.Get("searchCriteria[pageSize]"))
	page, _ := strconv.Atoi(q.Get("searchCriteria[currentPage]"))
	if size <= 0 || page <= 0 {
		mgError(w, 400, "pageSize and currentPage are required here")
		return
	}
	var sel []map[string]any
	if path == "orders" {
		from := f.filter(q, 0, "updated_at", "gteq")
		if q.Get("searchCriteria[sortOrders][0][field]") != "entity_id" || q.Get("searchCriteria[sortOrders][0][direction]") != "ASC" {
			f.t.Errorf("orders sorted by %v", q)
		}
		for _, o := range list {
			if fmt.Sprint(o["updated_at"]) >= from {
				sel = append(sel, o)
			}
		}
	} else {
		ids := strings.Split(f.filter(q, 0, "order_id", "in"), ",")
		for _, o := range list {
			if containsStr(ids, fmt.Sprint(o["order_id"])) {
				sel = append(sel, o)
			}
		}
	}
	lo := (page - 1) * size
	if lo >= len(sel) && len(sel) > 0 {
		lo = ((len(sel) - 1) / size) * size
	}
	hi := min(lo+size, len(sel))
	lo = min(lo, hi)
	mgJSON(w, map[string]any{"items": sel[lo:hi], "total_count": len(sel), "search_criteria": map[string]any{}})
}
