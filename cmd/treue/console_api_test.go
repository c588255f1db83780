package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func getJSON(t *testing.T, url, tok string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(v)
	return resp.StatusCode
}

// TestConsoleAPI: what the console needs to guide a newcomer: the token
// checked at sign-in, the shops with their time zones, the customer's name,
// orders by their number, and why an action waits.
func TestConsoleAPI(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "rules:\n  file: "+exampleRules(t, t.TempDir())+"\n")
		out, err := e.run(t, "tokens", "create", "--name", "desk", "--role", "support")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		tok := strings.TrimSpace(lines[len(lines)-1])
		in := e.serve(t)
		consoleJourney(t, e, in.URL)

		var me map[string]any
		if code := getJSON(t, in.URL+"/api/v1/me", tok, &me); code != 200 || me["name"] != "desk" || me["role"] != "support" {
			t.Fatalf("me: %d %v", code, me)
		}
		if code := getJSON(t, in.URL+"/api/v1/me", "treue_wrong", &me); code != 401 {
			t.Fatalf("me with a wrong token: %d", code)
		}
		var shops struct {
			Shops []map[string]any `json:"shops"`
		}
		if code := getJSON(t, in.URL+"/api/v1/shops", tok, &shops); code != 200 || len(shops.Shops) != 1 ||
			shops.Shops[0]["key"] != "acme" || shops.Shops[0]["timezone"] != "Europe/Berlin" {
			t.Fatalf("shops: %d %v", code, shops)
		}
		raw, _ := json.Marshal(shops)
		if strings.Contains(string(raw), "whsec_") || strings.Contains(string(raw), "secret") {
			t.Fatalf("the shop list shows secrets: %s", raw)
		}
		var hits struct {
			Customers []map[string]any `json:"customers"`
		}
		getJSON(t, in.URL+"/api/v1/shops/acme/customers?q=carla@example.org", tok, &hits)
		if len(hits.Customers) != 1 {
			t.Fatalf("search: %v", hits)
		}
		id := hits.Customers[0]["id"].(string)
		var prof map[string]any
		if getJSON(t, in.URL+"/api/v1/shops/acme/customers/"+id, tok, &prof); prof["name"] != "Carla" {
			t.Fatalf("profile name %v", prof["name"])
		}
		var waiting, numbered int
		for _, it := range consoleAPITimeline(t, in.URL, tok, id) {
			if it["kind"] == "event" && it["type"] == "order.placed" && it["order_number"] == "N-"+it["order_ref"].(string) {
				numbered++
			}
			if it["kind"] != "action" {
				continue
			}
			w, _ := it["waiting"].(string)
			switch it["status"] {
			case "scheduled", "retrying":
				if !strings.Contains(w, "dispatch is off") {
					t.Errorf("scheduled action %v waits without saying why: %q", it["rule_id"], w)
				}
				waiting++
			default:
				if w != "" {
					t.Errorf("%s action says it waits: %q", it["status"], w)
				}
			}
		}
		if waiting == 0 || numbered != 2 {
			t.Fatalf("%d waiting actions, %d orders with their number", waiting, numbered)
		}
	})
}
