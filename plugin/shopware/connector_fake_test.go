package shopware

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeShop is a hand-written Shopware Admin API: the endpoints the connector
// uses, with Shopware's status codes and error documents, and strict checks of
// authentication and request shape.
type fakeShop struct {
	t   *testing.T
	srv *httptest.Server

	mu               sync.Mutex
	clientID, secret string
	tokenCalls       int
	tokens           map[string]bool
	rejectFirstToken bool // answer the first issued token with 401, as if it expired
	codes            map[string]fakeCode
	tags             map[string]string          // id -> name
	customerTags     map[string]map[string]bool // customer id -> tag ids
	customers        map[string]*fakeCustomer
	products         map[string]string // product number -> id
	events           map[string]bool   // declared custom flow triggers
	triggers         []fakeTrigger
	requests         []string
	// orders are what POST /api/search/order finds, in createdAt, id order.
	orders []map[string]any
	// searches are the criteria of the order searches.
	searches []map[string]any
	// fault, when set, may answer a request itself (return true).
	fault func(w http.ResponseWriter, r *http.Request) bool
	// stock are the products GET /api/product/{id} reads, by id.
	stock map[string]fakeProduct
}

type fakeProduct struct {
	Number           string
	Stock, Available int64
}

type fakeCode struct{ PromotionID, Code string }

type fakeCustomer struct {
	Email        string
	CustomFields map[string]any
}

type fakeTrigger struct {
	Event string
	Data  map[string]any
}

const (
	custAnna  = "0190a0b1c2d3e4f5a6b7c8d9e0f1a2b3"
	promoID   = "aa01aa01aa01aa01aa01aa01aa01aa01"
	productID = "bb02bb02bb02bb02bb02bb02bb02bb02"
)

func newFakeShop(t *testing.T) *fakeShop {
	f := &fakeShop{
		t: t, clientID: "SWIAFAKE", secret: "fake-secret",
		tokens: map[string]bool{}, codes: map[string]fakeCode{}, tags: map[string]string{},
		customerTags: map[string]map[string]bool{},
		customers:    map[string]*fakeCustomer{custAnna: {Email: "anna@example.com", CustomFields: map[string]any{"other": "kept"}}},
		products:     map[string]string{"SAMPLE-5": productID},
		events:       map[string]bool{eventReorderDue: true, eventReviewRequest: true, "treue.notify": true},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeShop) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	fault := f.fault
	f.mu.Unlock()
	if fault != nil && fault(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	if len(body) > 0 && r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	if r.URL.Path == "/api/oauth/token" {
		f.token(w, r, body)
		return
	}
	if !f.authorized(w, r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	isWrite := r.Method == http.MethodPatch || (r.Method == http.MethodPost && !strings.HasPrefix(r.URL.Path, "/api/search/"))
	skip := r.Header.Get("sw-skip-trigger-flow")
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/_action/trigger-event/"):
		if skip != "" {
			f.t.Errorf("trigger-event sent with sw-skip-trigger-flow: %q", skip)
		}
	case isWrite && skip != "1":
		f.t.Errorf("%s %s: own write without sw-skip-trigger-flow: 1", r.Method, r.URL.Path)
	}

	var in map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			swError(w, 400, "FRAMEWORK__INVALID_REQUEST_BODY", err.Error())
			return
		}
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/"), "/")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/promotion-individual-code":
		id, _ := in["id"].(string)
		pid, _ := in["promotionId"].(string)
		code, _ := in["code"].(string)
		if !hexID.MatchString(id) || pid == "" || code == "" || len(in) != 3 {
			swError(w, 400, "FRAMEWORK__WRITE_CONSTRAINT_VIOLATION", fmt.Sprintf("bad body %v", in))
			return
		}
		if _, dup := f.codes[id]; dup {
			swError(w, 400, "FRAMEWORK__WRITE_TYPE_INTEND_ERROR", `Expected command for "promotion_individual_code" to be "InsertCommand". (Got: UpdateCommand)`)
			return
		}
		f.codes[id] = fakeCode{PromotionID: pid, Code: code}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "promotion-individual-code":
		c, ok := f.codes[parts[1]]
		if !ok {
			swError(w, 404, "FRAMEWORK__RESOURCE_NOT_FOUND", "not found")
			return
		}
		writeJSON(w, map[string]any{"data": map[string]any{"id": parts[1], "promotionId": c.PromotionID, "code": c.Code}})
	case r.Method == http.MethodPost && r.URL.Path == "/api/search/order":
		f.searches = append(f.searches, in)
		page, _ := in["page"].(float64)
		limit, _ := in["limit"].(float64)
		if page < 1 || limit < 1 || in["total-count-mode"] != float64(1) {
			swError(w, 400, "FRAMEWORK__INVALID_CRITERIA", fmt.Sprintf("bad criteria %v", in))
			return
		}
		from := ""
		if fl, ok := in["filter"].([]any); ok && len(fl) == 1 {
			q, _ := fl[0].(map[string]any)["queries"].([]any)
			if len(q) == 2 {
				from, _ = q[0].(map[string]any)["parameters"].(map[string]any)["gte"].(string)
			}
		}
		if from == "" {
			swError(w, 400, "FRAMEWORK__INVALID_FILTER_QUERY", "expected a multi filter on updatedAt/createdAt")
			return
		}
		var sel []map[string]any
		for _, o := range f.orders {
			c, _ := o["createdAt"].(string)
			u, _ := o["updatedAt"].(string)
			if c >= from || (u != "" && u >= from) {
				sel = append(sel, o)
			}
		}
		lo := min(int(page-1)*int(limit), len(sel))
		hi := min(lo+int(limit), len(sel))
		writeJSON(w, map[string]any{"total": len(sel), "data": sel[lo:hi], "aggregations": []any{}})
	case r.Method == http.MethodPost && r.URL.Path == "/api/search/tag":
		name := equalsFilter(f.t, in, "name")
		var data []map[string]string
		for id, n := range f.tags {
			if n == name {
				data = append(data, map[string]string{"id": id, "name": n})
			}
		}
		writeJSON(w, map[string]any{"total": len(data), "data": data, "aggregations": []any{}})
	case r.Method == http.MethodPost && r.URL.Path == "/api/tag":
		id, _ := in["id"].(string)
		name, _ := in["name"].(string)
		if !hexID.MatchString(id) || name == "" {
			swError(w, 400, "FRAMEWORK__WRITE_CONSTRAINT_VIOLATION", "bad tag")
			return
		}
		if _, dup := f.tags[id]; dup {
			swError(w, 500, "FRAMEWORK__WRITE_TYPE_INTEND_ERROR", "Expected command for tag to be InsertCommand") // status before 6.5
			return
		}
		f.tags[id] = name
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "customer" && parts[2] == "tags":
		cust, tagID := parts[1], fmt.Sprint(in["id"])
		if f.customers[cust] == nil || f.tags[tagID] == "" || len(in) != 1 {
			swError(w, 400, "FRAMEWORK__WRITE_CONSTRAINT_VIOLATION", "unknown customer or tag")
			return
		}
		if f.customerTags[cust][tagID] {
			swError(w, 400, "FRAMEWORK__WRITE_TYPE_INTEND_ERROR", "Expected command for customer_tag to be InsertCommand")
			return
		}
		if f.customerTags[cust] == nil {
			f.customerTags[cust] = map[string]bool{}
		}
		f.customerTags[cust][tagID] = true
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && r.URL.Path == "/api/search/customer":
		email := equalsFilter(f.t, in, "email")
		var data []map[string]string
		for id, c := range f.customers {
			if c.Email == email {
				data = append(data, map[string]string{"id": id})
			}
		}
		writeJSON(w, map[string]any{"total": len(data), "data": data})
	case r.Method == http.MethodPost && r.URL.Path == "/api/search/product":
		num := equalsFilter(f.t, in, "productNumber")
		data := []map[string]string{}
		if id, ok := f.products[num]; ok {
			data = append(data, map[string]string{"id": id})
		}
		writeJSON(w, map[string]any{"total": len(data), "data": data})
	case r.Method == http.MethodPatch && len(parts) == 2 && parts[0] == "customer":
		c := f.customers[parts[1]]
		cf, ok := in["customFields"].(map[string]any)
		if c == nil || !ok || len(in) != 1 {
			swError(w, 400, "FRAMEWORK__WRITE_CONSTRAINT_VIOLATION", "bad customer patch")
			return
		}
		for k, v := range cf {
			c.CustomFields[k] = v
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "_action" && parts[1] == "trigger-event":
		if !f.events[parts[2]] {
			swError(w, 404, "FRAMEWORK__CUSTOM_TRIGGER_BY_NAME_NOT_FOUND", "The provided event name "+parts[2]+" is invalid or uninstalled")
			return
		}
		f.triggers = append(f.triggers, fakeTrigger{Event: parts[2], Data: in})
		writeJSON(w, map[string]string{"message": "The trigger `" + parts[2] + "`successfully dispatched!"})
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "product":
		p, ok := f.stock[parts[1]]
		if !ok {
			swError(w, 404, "FRAMEWORK__RESOURCE_NOT_FOUND", "product "+parts[1]+" not found")
			return
		}
		writeJSON(w, map[string]any{"data": map[string]any{"id": parts[1], "productNumber": p.Number, "stock": p.Stock, "availableStock": p.Available, "active": true}})
	default:
		swError(w, 404, "FRAMEWORK__ROUTE_NOT_FOUND", r.Method+" "+r.URL.Path)
	}
}

func (f *fakeShop) token(w http.ResponseWriter, r *http.Request, body []byte) {
	var in map[string]string
	_ = json.Unmarshal(body, &in)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenCalls++
	if r.Method != http.MethodPost || in["grant_type"] != "client_credentials" || in["client_id"] != f.clientID || in["client_secret"] != f.secret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"1","status":"401","title":"Unauthorized","detail":"The user credentials were incorrect."}]}`)
		return
	}
	tok := fmt.Sprintf("token-%d", f.tokenCalls)
	f.tokens[tok] = !(f.rejectFirstToken && f.tokenCalls == 1)
	writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 600, "access_token": tok})
}

func (f *fakeShop) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	valid := ok && f.tokens[tok]
	f.mu.Unlock()
	if !valid {
		swError(w, 401, "9", "The resource owner or authorization server denied the request.")
	}
	if r.Header.Get("Accept") != "application/json" {
		f.t.Errorf("%s %s: Accept %q", r.Method, r.URL.Path, r.Header.Get("Accept"))
	}
	return valid
}

// equalsFilter checks a search body {"filter":[{"type":"equals","field":…}],"limit":1}
// and returns the value.
func equalsFilter(t *testing.T, in map[string]any, field string) string {
	t.Helper()
	fs, _ := in["filter"].([]any)
	if len(fs) != 1 || in["limit"] != float64(1) {
		t.Errorf("search body %v", in)
		return ""
	}
	f, _ := fs[0].(map[string]any)
	if f["type"] != "equals" || f["field"] != field {
		t.Errorf("filter %v, want equals on %s", f, field)
	}
	v, _ := f["value"].(string)
	return v
}

func swError(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{
		"code": code, "status": fmt.Sprint(status), "title": http.StatusText(status), "detail": detail,
	}}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *fakeShop) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}
