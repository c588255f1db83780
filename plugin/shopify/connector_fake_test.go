package shopify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeShopify is a hand-written Admin GraphQL endpoint for the operations the
// connector sends. It checks the access token, the API version in the path,
// and the variables' shape, and answers like Shopify: HTTP 200 with data and
// userErrors, or with a top-level errors list.
type fakeShopify struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	token      string
	discounts  map[string]map[string]any // code -> input
	tags       map[string]map[string]bool
	metafields map[string]map[string]string // gid -> "ns.key" -> type:value
	emails     map[string]string            // e-mail -> gid
	ops        []string
	fault      func(w http.ResponseWriter, r *http.Request, op string) bool
}

const gidAnna = "gid://shopify/Customer/7001"

func newFakeShopify(t *testing.T) *fakeShopify {
	f := &fakeShopify{
		t: t, token: "shpat_fake",
		discounts: map[string]map[string]any{}, tags: map[string]map[string]bool{gidAnna: {"newsletter": true}},
		metafields: map[string]map[string]string{}, emails: map[string]string{"anna@example.com": gidAnna},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeShopify) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/admin/api/2025-07/graphql.json" || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if r.Header.Get("X-Shopify-Access-Token") != f.token {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
		return
	}
	var in struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	op := ""
	for _, name := range []string{"discountCodeBasicCreate", "tagsAdd", "metafieldsSet", "customers("} {
		if strings.Contains(in.Query, name) {
			op = strings.TrimSuffix(name, "(")
		}
	}
	f.mu.Lock()
	f.ops = append(f.ops, op)
	fault := f.fault
	f.mu.Unlock()
	if fault != nil && fault(w, r, op) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v := in.Variables
	var data map[string]any
	switch op {
	case "discountCodeBasicCreate":
		d, _ := v["discount"].(map[string]any)
		data = map[string]any{"discountCodeBasicCreate": f.createDiscount(d)}
	case "tagsAdd":
		id, _ := v["id"].(string)
		tags, _ := v["tags"].([]any)
		if f.tags[id] == nil || len(tags) == 0 {
			data = map[string]any{"tagsAdd": map[string]any{"node": nil, "userErrors": []any{map[string]any{"field": []string{"id"}, "message": "Customer does not exist"}}}}
			break
		}
		for _, t := range tags {
			f.tags[id][t.(string)] = true
		}
		data = map[string]any{"tagsAdd": map[string]any{"node": map[string]any{"id": id}, "userErrors": []any{}}}
	case "metafieldsSet":
		list, _ := v["metafields"].([]any)
		for _, x := range list {
			m := x.(map[string]any)
			owner, _ := m["ownerId"].(string)
			if f.tags[owner] == nil || m["namespace"] != "treue" || m["key"] == "" || m["type"] == "" || m["value"] == nil {
				f.t.Errorf("metafield input %v", m)
				continue
			}
			if f.metafields[owner] == nil {
				f.metafields[owner] = map[string]string{}
			}
			f.metafields[owner]["treue."+m["key"].(string)] = m["type"].(string) + ":" + m["value"].(string)
		}
		data = map[string]any{"metafieldsSet": map[string]any{"metafields": list, "userErrors": []any{}}}
	case "customers":
		q, _ := v["query"].(string)
		email := strings.TrimSuffix(strings.TrimPrefix(q, `email:"`), `"`)
		nodes := []any{}
		if gid, ok := f.emails[email]; ok {
			nodes = append(nodes, map[string]any{"id": gid})
		}
		data = map[string]any{"customers": map[string]any{"nodes": nodes}}
	default:
		f.t.Errorf("unknown operation in %q", in.Query)
	}
	writeGQL(w, map[string]any{"data": data, "extensions": map[string]any{"cost": map[string]any{"requestedQueryCost": 10, "actualQueryCost": 10,
		"throttleStatus": map[string]any{"maximumAvailable": 2000, "currentlyAvailable": 1990, "restoreRate": 100}}}})
}

func (f *fakeShopify) createDiscount(d map[string]any) map[string]any {
	fail := func(field, code, msg string) map[string]any {
		return map[string]any{"codeDiscountNode": nil, "userErrors": []any{map[string]any{"field": []string{"basicCodeDiscount", field}, "code": code, "message": msg}}}
	}
	code, _ := d["code"].(string)
	start, _ := d["startsAt"].(string)
	if _, err := time.Parse(time.RFC3339, start); err != nil || code == "" || d["title"] == "" {
		return fail("startsAt", "INVALID", "bad input")
	}
	if d["usageLimit"] != 1.0 || d["appliesOncePerCustomer"] != true {
		f.t.Errorf("limits in %v", d)
	}
	gets, _ := d["customerGets"].(map[string]any)
	items, _ := gets["items"].(map[string]any)
	val, _ := gets["value"].(map[string]any)
	if items["all"] != true || (val["percentage"] == nil && val["discountAmount"] == nil) {
		return fail("customerGets", "INVALID", "customerGets is invalid")
	}
	ctx, _ := d["context"].(map[string]any)
	if ctx["all"] != "ALL" && ctx["customers"] == nil {
		return fail("context", "BLANK", "context can't be blank")
	}
	if _, dup := f.discounts[code]; dup {
		return fail("code", "TAKEN", "Code must be unique. Please try a different code.")
	}
	f.discounts[code] = d
	return map[string]any{"codeDiscountNode": map[string]any{"id": "gid://shopify/DiscountCodeNode/1"}, "userErrors": []any{}}
}

func writeGQL(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *fakeShopify) tagList(gid string) []string {
	var out []string
	for t := range f.tags[gid] {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
