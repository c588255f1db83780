package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/handlers"
	"github.com/treue/treue/models"
)

// token creates an API token through the CLI and returns it (the last line).
func token(t *testing.T, e *testEnv, name, role string) string {
	t.Helper()
	out, err := e.run(t, "tokens", "create", "--name", name, "--role", role)
	if err != nil {
		t.Fatalf("tokens create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

func apiGet(t *testing.T, u, tok string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	decodeJSON(resp, &m)
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s: error %d is not problem+json", u, resp.StatusCode)
	}
	return resp.StatusCode, m
}

// TestCustomerAPI: tokens and roles, search, profile, timeline with paging and
// filters, and the access log, through real HTTP on both databases.
func TestCustomerAPI(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		dir := t.TempDir()
		e := newEnv(t, driver, "rules:\n  file: "+exampleRules(t, dir)+"\n")
		support := token(t, e, "anna-support", "support")
		admin := token(t, e, "ops", "admin")
		in := e.serve(t)
		url0 := in.URL + "/webhooks/standard/acme"
		for i, body := range []string{
			`{"type":"consent.granted","timestamp":"2026-11-01T08:00:00Z","data":{"customer":{"id":"c-77","email":"Anna@Example.org"},"consent":{"channel":"email"}}}`,
			placed, paid, shipped, delivered,
		} {
			if code, m := post(t, url0, fmt.Sprintf("m-%d", i), body); code != 200 {
				t.Fatalf("%d: %v", code, m)
			}
		}
		waitDrained(t, e)
		base := in.URL + "/api/v1/shops/acme/customers"

		t.Run("Auth", func(t *testing.T) {
			if code, _ := apiGet(t, base+"?q=anna@example.org", ""); code != 401 {
				t.Fatalf("no token: %d", code)
			}
			if code, _ := apiGet(t, base+"?q=anna@example.org", "treue_wrong"); code != 401 {
				t.Fatalf("bad token: %d", code)
			}
			if code, _ := apiGet(t, in.URL+"/api/v1/rules", support); code != 403 {
				t.Fatalf("support reading rules: %d", code)
			}
			if code, _ := apiGet(t, in.URL+"/api/v1/rules", admin); code != 200 {
				t.Fatalf("admin reading rules: %d", code)
			}
			// Auth schemes are case-insensitive (RFC 9110, 11.1).
			for _, scheme := range []string{"bearer", "BEARER", "bEaReR"} {
				req, _ := http.NewRequest("GET", base+"?q=anna@example.org", nil)
				req.Header.Set("Authorization", scheme+" "+support)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("Authorization: %s <token>: %d, want 200", scheme, resp.StatusCode)
				}
			}
		})
		var id string
		t.Run("Search", func(t *testing.T) {
			for _, q := range []string{"ANNA@example.org", "C10077", "c-77"} {
				code, m := apiGet(t, base+"?q="+url.QueryEscape(q), support)
				hits, _ := m["customers"].([]any)
				if code != 200 || len(hits) != 1 {
					t.Fatalf("q=%s: %d %v", q, code, m)
				}
				id = hits[0].(map[string]any)["id"].(string)
			}
			if code, m := apiGet(t, base+"?q=nobody@example.org", support); code != 200 || len(m["customers"].([]any)) != 0 {
				t.Fatalf("no match: %d %v", code, m)
			}
			if code, _ := apiGet(t, base, support); code != 422 {
				t.Fatalf("no q: %d", code)
			}
			if code, _ := apiGet(t, in.URL+"/api/v1/shops/nope/customers?q=x", support); code != 404 {
				t.Fatalf("unknown shop: %d", code)
			}
		})
		t.Run("Profile", func(t *testing.T) {
			code, p := apiGet(t, base+"/"+id, support)
			if code != 200 || p["stage"] != "first_purchase" || p["total_spent"] != "59.80" || p["marketing_consent"] != true || p["points_balance"].(float64) != 59 {
				t.Fatalf("%d %v", code, p)
			}
			if code, _ := apiGet(t, base+"/00000000-0000-0000-0000-000000000000", support); code != 404 {
				t.Fatalf("unknown customer: %d", code)
			}
		})
		t.Run("Timeline", func(t *testing.T) {
			var all []map[string]any
			cursor := ""
			for page := 0; page < 20; page++ {
				u := base + "/" + id + "/timeline?limit=2"
				if cursor != "" {
					u += "&cursor=" + cursor
				}
				code, m := apiGet(t, u, support)
				if code != 200 {
					t.Fatalf("%d %v", code, m)
				}
				for _, it := range m["items"].([]any) {
					all = append(all, it.(map[string]any))
				}
				next, _ := m["next_cursor"].(string)
				if next == "" {
					break
				}
				cursor = next
			}
			var kinds []string
			events, actions := 0, 0
			for _, it := range all {
				kinds = append(kinds, it["kind"].(string)+":"+it["type"].(string))
				if it["kind"] == "event" {
					events++
				} else {
					actions++
					if it["rule_id"] == "" || it["why"] == "" || it["status"] == "" {
						t.Fatalf("action without its why: %v", it)
					}
				}
			}
			if events != 5 || actions < 2 {
				t.Fatalf("timeline %v", kinds)
			}
			if kinds[len(kinds)-1] != "event:consent.granted" {
				t.Fatalf("oldest entry %s, want the consent", kinds[len(kinds)-1])
			}
			code, m := apiGet(t, base+"/"+id+"/timeline?types=order.placed,action.points_award", support)
			if items := m["items"].([]any); code != 200 || len(items) != 2 {
				t.Fatalf("filtered: %d %v", code, m)
			}
			if code, _ := apiGet(t, base+"/"+id+"/timeline?types=bogus", support); code != 422 {
				t.Fatalf("bad filter: %d", code)
			}
			if code, _ := apiGet(t, base+"/"+id+"/timeline?cursor=bm90LWEtY3Vyc29y", support); code != 422 {
				t.Fatalf("bad cursor: %d", code)
			}
		})
		t.Run("AccessLog", func(t *testing.T) {
			st := e.store(t)
			shop, _ := st.ShopByKey(context.Background(), "acme")
			p, err := st.CustomerByIdentity(context.Background(), shop.ID, models.IdentityID, "c-77")
			if err != nil {
				t.Fatal(err)
			}
			// The log is written in batches, within 100 ms.
			var log []models.AccessEntry
			waitFor(t, func() bool {
				log, err = st.CustomerAccess(context.Background(), p.CustomerID)
				return err == nil && len(log) > 0
			})
			if log[0].TokenName != "anna-support" {
				t.Fatalf("access log %v", log)
			}
		})
	})
}

func TestTokensCommand(t *testing.T) {
	e := newEnv(t, "sqlite", "")
	if _, err := e.run(t, "migrate"); err != nil {
		t.Fatal(err)
	}
	tok := token(t, e, "bob", "admin")
	if !strings.HasPrefix(tok, "treue_") || len(tok) < 40 {
		t.Fatalf("token %q", tok)
	}
	out, err := e.run(t, "tokens", "list")
	if err != nil || !strings.Contains(out, "bob") || strings.Contains(out, tok) {
		t.Fatalf("list: %q %v", out, err)
	}
	if _, err := e.run(t, "tokens", "create", "--name", "x", "--role", "root"); err == nil {
		t.Fatal("a bad role must fail")
	}
	if _, err := e.run(t, "tokens", "revoke", "bob"); err != nil {
		t.Fatal(err)
	}
	carol := token(t, e, "carol", "admin")
	in := e.serve(t)
	if code, _ := apiGet(t, in.URL+"/api/v1/rules", tok); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
	// A token revoked while the server runs stops working within the
	// token cache's TTL, and stays refused.
	if code, _ := apiGet(t, in.URL+"/api/v1/rules", carol); code != 200 {
		t.Fatalf("live token: %d", code)
	}
	revoked := time.Now()
	if _, err := e.run(t, "tokens", "revoke", "carol"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { code, _ := apiGet(t, in.URL+"/api/v1/rules", carol); return code == 401 })
	if d := time.Since(revoked); d > handlers.DefaultTokenTTL+time.Second {
		t.Fatalf("the revoked token worked for %v", d)
	}
	for range 3 {
		if code, _ := apiGet(t, in.URL+"/api/v1/rules", carol); code != 401 {
			t.Fatalf("revoked token answered %d", code)
		}
	}
}
