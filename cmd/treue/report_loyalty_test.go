package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// loyaltySeed posts a planted shop through the real webhook endpoint; its
// figures for [2025-01-01, 2025-07-01) in Europe/Berlin are worked out by
// hand in TestLoyalty_API. Times are UTC.
//
//	P1-P32  first order Jan 15; P1-P10 again Feb 14 (30 days), P11-P12 May 15 (120 days), P13-P16 Aug 1 (after the period)
//	Q1-Q8   first order Feb 10; Q1-Q2 again Mar 12 (30 days)
//	X1      one order Mar 1, cancelled Mar 2
//	T1      one test order Mar 1
func loyaltySeed(t *testing.T, e *testEnv, baseURL string) {
	t.Helper()
	url := baseURL + "/webhooks/standard/acme"
	n := 0
	send := func(body string) {
		t.Helper()
		n++
		if code, m := post(t, url, fmt.Sprintf("loyalty-%d", n), body); code != 200 || m["status"] != "stored" {
			t.Fatalf("delivery %d: %d %v\n%s", n, code, m, body)
		}
	}
	order := func(cust, id, at string, test bool) {
		send(fmt.Sprintf(`{"type":"order.placed","timestamp":%q,"data":{"customer":{"id":%q},"order":{"id":%q,"placed_at":%q,"currency":"EUR","total":"24.90","test":%t}}}`,
			at, cust, cust+"-"+id, at, test))
	}
	for i := 1; i <= 32; i++ {
		c := fmt.Sprintf("p-%d", i)
		order(c, "o1", "2025-01-15T10:00:00Z", false)
		switch {
		case i <= 10:
			order(c, "o2", "2025-02-14T10:00:00Z", false)
		case i <= 12:
			order(c, "o2", "2025-05-15T10:00:00Z", false)
		case i <= 16:
			order(c, "o2", "2025-08-01T10:00:00Z", false)
		}
	}
	for i := 1; i <= 8; i++ {
		c := fmt.Sprintf("q-%d", i)
		order(c, "o1", "2025-02-10T10:00:00Z", false)
		if i <= 2 {
			order(c, "o2", "2025-03-12T10:00:00Z", false)
		}
	}
	order("x-1", "o1", "2025-03-01T10:00:00Z", false)
	send(`{"type":"order.cancelled","timestamp":"2025-03-02T10:00:00Z","data":{"customer":{"id":"x-1"},"order":{"id":"x-1-o1"}}}`)
	order("t-1", "o1", "2025-03-01T10:00:00Z", true)
	waitDrained(t, e)
}

// loyaltyAPI reads the loyalty report; it returns the status, the body and
// its content type.
func loyaltyAPI(t *testing.T, base, tok, shop, query string) (int, []byte, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/shops/"+shop+"/reports/loyalty"+query, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header.Get("Content-Type")
}

// loyaltyPlantedJSON is the report of loyaltySeed's shop for the first half
// of 2025, as the API must answer it:
//
//   - customers: P and Q; X's only order is cancelled, T's a test.
//   - repurchase: 40 first orders in the period; again before July: P1-P12
//     and Q1-Q2; within 90 days all but P11-P12.
//   - days between orders: 14 gaps, too few for a median.
//   - stages: nothing is delivered, so every customer with an order is a
//     first purchase until 90 days without one (at risk). P11-P32 pass 90
//     days in April; in May P1-P10, P13-P32 and Q3-Q8 are at risk, P11-P12
//     (ordered May 15) and Q1-Q2 (Mar 12) are not; in June only P11-P12 are
//     not. X and T are new from March.
//   - cohorts: January's 32 (P) ordered again in February (P1-P10) and May
//     (P11-P12); February's 8 (Q) are too few for rates.
const loyaltyPlantedJSON = `{"shop":"acme","from":"2025-01-01","to":"2025-07-01","timezone":"Europe/Berlin","min_sample":30,
 "customers":40,
 "repurchase":{"customers":40,"repeat_customers":14,"rate":0.35,"within_90_days":{"repeat_customers":12,"rate":0.3},"note":""},
 "days_between_orders":{"median":null,"gaps":14,"note":"not enough data: 14 gaps, 30 needed"},
 "stages":[
  {"month":"2025-01","counts":{"new":0,"first_purchase":32,"second_positive":0,"loyal":0,"at_risk":0,"lapsed":0}},
  {"month":"2025-02","counts":{"new":0,"first_purchase":40,"second_positive":0,"loyal":0,"at_risk":0,"lapsed":0}},
  {"month":"2025-03","counts":{"new":2,"first_purchase":40,"second_positive":0,"loyal":0,"at_risk":0,"lapsed":0}},
  {"month":"2025-04","counts":{"new":2,"first_purchase":18,"second_positive":0,"loyal":0,"at_risk":22,"lapsed":0}},
  {"month":"2025-05","counts":{"new":2,"first_purchase":4,"second_positive":0,"loyal":0,"at_risk":36,"lapsed":0}},
  {"month":"2025-06","counts":{"new":2,"first_purchase":2,"second_positive":0,"loyal":0,"at_risk":38,"lapsed":0}}],
 "cohorts":[
  {"cohort":"2025-01","size":32,"retained":[32,10,0,0,2,0],"rates":[1,0.3125,0,0,0.0625,0],"note":""},
  {"cohort":"2025-02","size":8,"retained":[8,2,0,0,0],"rates":[null,null,null,null,null],"note":"not enough data: 8 customers, 30 needed"},
  {"cohort":"2025-03","size":0,"retained":[0,0,0,0],"rates":[null,null,null,null],"note":"not enough data: 0 customers, 30 needed"},
  {"cohort":"2025-04","size":0,"retained":[0,0,0],"rates":[null,null,null],"note":"not enough data: 0 customers, 30 needed"},
  {"cohort":"2025-05","size":0,"retained":[0,0],"rates":[null,null],"note":"not enough data: 0 customers, 30 needed"},
  {"cohort":"2025-06","size":0,"retained":[0],"rates":[null],"note":"not enough data: 0 customers, 30 needed"}]}`

func loyaltyDecode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

// TestLoyalty_API: the loyalty report through real HTTP on both databases,
// from deliveries posted to the webhook endpoint.
func TestLoyalty_API(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		support := token(t, e, "loyalty-support", "support")
		in := e.serve(t)
		loyaltySeed(t, e, in.URL)

		t.Run("OK", func(t *testing.T) {
			code, body, ctype := loyaltyAPI(t, in.URL, support, "acme", "?from=2025-01-01&to=2025-07-01")
			if code != 200 || !strings.HasPrefix(ctype, "application/json") {
				t.Fatalf("%d %s: %s", code, ctype, body)
			}
			if d := cmp.Diff(loyaltyDecode(t, []byte(loyaltyPlantedJSON)), loyaltyDecode(t, body)); d != "" {
				t.Errorf("figures (-want +got):\n%s", d)
			}
		})
		t.Run("Defaults", func(t *testing.T) {
			// Twelve calendar months up to today in Berlin; then the planted
			// orders of 2025 are before the period, and nothing is repurchased.
			code, body, _ := loyaltyAPI(t, in.URL, support, "acme", "")
			if code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			var l struct {
				From, To   string
				Customers  int
				Repurchase struct{ Customers int }
				Stages     []struct{ Month string }
			}
			json.Unmarshal(body, &l)
			berlin, _ := time.LoadLocation("Europe/Berlin")
			today := time.Now().In(berlin)
			wantTo := today.AddDate(0, 0, 1).Format(time.DateOnly)
			wantFrom := time.Date(today.Year(), today.Month()-11, 1, 0, 0, 0, 0, berlin).Format(time.DateOnly)
			if l.To != wantTo || l.From != wantFrom || len(l.Stages) != 12 || l.Stages[11].Month != today.Format("2006-01") {
				t.Errorf("default period %s to %s, %d months, want %s to %s", l.From, l.To, len(l.Stages), wantFrom, wantTo)
			}
			if l.Customers != 40 || l.Repurchase.Customers != 0 {
				t.Errorf("customers %d, first orders in the period %d", l.Customers, l.Repurchase.Customers)
			}
		})
		for _, tt := range []struct {
			name, shop, query, tok string
			status                 int
			field                  string
		}{
			{name: "ErrDate", shop: "acme", query: "?from=2025-02-30", tok: support, status: 422, field: "from"},
			{name: "ErrTo", shop: "acme", query: "?from=2025-01-01&to=July", tok: support, status: 422, field: "to"},
			{name: "ErrFromNotBeforeTo", shop: "acme", query: "?from=2025-07-01&to=2025-07-01", tok: support, status: 422, field: "from"},
			{name: "ErrUnknownShop", shop: "nope", query: "?from=2025-01-01&to=2025-07-01", tok: support, status: 404},
			{name: "ErrNoToken", shop: "acme", query: "", status: 401},
		} {
			t.Run(tt.name, func(t *testing.T) {
				code, body, ctype := loyaltyAPI(t, in.URL, tt.tok, tt.shop, tt.query)
				if code != tt.status || ctype != "application/problem+json" {
					t.Fatalf("%d %s, want %d problem+json: %s", code, ctype, tt.status, body)
				}
				var p struct {
					Status int
					Errors []struct{ Field, Message string }
				}
				json.Unmarshal(body, &p)
				if tt.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tt.field) {
					t.Errorf("errors %+v, want one for %s", p.Errors, tt.field)
				}
			})
		}
	})
}

// TestLoyalty_CLI: treue report loyalty prints the API's figures as JSON,
// an aligned table and CSV.
func TestLoyalty_CLI(t *testing.T) {
	e := newEnv(t, "sqlite", "")
	support := token(t, e, "loyalty-cli", "support")
	in := e.serve(t)
	loyaltySeed(t, e, in.URL)
	report := func(t *testing.T, args ...string) (string, string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := e.main(&out, &errOut).reportLoyalty(context.Background(), e.configPath, args)
		return out.String(), errOut.String(), err
	}
	period := []string{"--shop", "acme", "--from", "2025-01-01", "--to", "2025-07-01"}

	t.Run("JSON", func(t *testing.T) {
		out, _, err := report(t, append(period, "--format", "json")...)
		if err != nil {
			t.Fatal(err)
		}
		_, api, _ := loyaltyAPI(t, in.URL, support, "acme", "?from=2025-01-01&to=2025-07-01")
		if d := cmp.Diff(loyaltyDecode(t, api), loyaltyDecode(t, []byte(out))); d != "" {
			t.Errorf("CLI JSON differs from the API (-api +cli):\n%s", d)
		}
	})
	t.Run("Table", func(t *testing.T) {
		out, stderr, err := report(t, period...)
		if err != nil {
			t.Fatal(err)
		}
		if stderr != "" {
			t.Errorf("a quick report shows no progress, got %q", stderr)
		}
		for _, want := range []string{
			"Loyalty figures of shop acme, 2025-01-01 to 2025-07-01 (not included), days in Europe/Berlin",
			"Customers with a counted order before 2025-07-01: 40",
			"Repurchase rate             35.0 %           14 of 40 customers whose first counted order is in the period",
			"  within 90 days            30.0 %           12 of 40",
			"Median days between orders  not enough data  14 gaps between consecutive orders in the period",
			"(not enough data: 14 gaps, 30 needed)",
			"  MONTH  NEW  FIRST PURCHASE  SECOND POSITIVE  LOYAL  AT RISK  LAPSED  TOTAL",
			"2025-04    2              18                0      0       22       0     42",
			"COHORT   SIZE  NOTE                                     M0            M1           M2         M3         M4         M5",
			"2025-01  32                                             32 (100.0 %)  10 (31.3 %)  0 (0.0 %)  0 (0.0 %)  2 (6.3 %)  0 (0.0 %)",
			"2025-02  8     not enough data: 8 customers, 30 needed  8             2            0          0          0",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("CSV", func(t *testing.T) {
		out, _, err := report(t, append(period, "--format", "csv")...)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		// header, 4 figures, 6 months × 6 stages, cohorts of 6+5+4+3+2+1 offsets
		if len(rows) != 1+4+36+21 {
			t.Fatalf("%d rows:\n%s", len(rows), out)
		}
		want := map[string][]string{
			"figure":              {"figure", "month", "offset", "stage", "count", "of", "value", "note"},
			"customers":           {"customers", "", "", "", "40", "", "", ""},
			"repurchase":          {"repurchase", "", "", "", "14", "40", "0.35", ""},
			"repurchase_90_days":  {"repurchase_90_days", "", "", "", "12", "40", "0.3", ""},
			"days_between_orders": {"days_between_orders", "", "", "", "14", "", "", "not enough data: 14 gaps, 30 needed"},
		}
		for _, r := range rows[:5] {
			if d := cmp.Diff(want[r[0]], r); d != "" {
				t.Errorf("row %s (-want +got):\n%s", r[0], d)
			}
		}
		has := func(row ...string) {
			t.Helper()
			for _, r := range rows {
				if cmp.Equal(r, row) {
					return
				}
			}
			t.Errorf("no row %q", row)
		}
		has("stage", "2025-04", "", "at_risk", "22", "42", "", "")
		has("cohort", "2025-01", "1", "", "10", "32", "0.3125", "")
		has("cohort", "2025-02", "1", "", "2", "8", "", "not enough data: 8 customers, 30 needed")
	})
	t.Run("Usage", func(t *testing.T) {
		for _, args := range [][]string{
			{},
			{"--shop", "acme", "--format", "xml"},
			{"--shop", "acme", "--from", "2025-13-01"},
			{"--shop", "acme", "--from", "2025-07-01", "--to", "2025-01-01"},
			{"--shop", "acme", "extra"},
		} {
			_, _, err := report(t, args...)
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "usage: treue report loyalty") {
				t.Errorf("%q: got %v, want a usage error", args, err)
			}
		}
		if _, _, err := report(t, "--shop", "nope"); err == nil || !strings.Contains(err.Error(), "report loyalty: shop nope") {
			t.Errorf("unknown shop: %v", err)
		}
		if out, _, err := report(t, "--help"); err != nil || !strings.HasPrefix(out, "usage: treue report loyalty") {
			t.Errorf("--help: %q %v", out, err)
		}
	})
}

// TestLoyalty_Progress: nothing for the first second, then a line every
// five seconds, or a bar (redrawn, then cleared) on a terminal.
func TestLoyalty_Progress(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tty := range []bool{false, true} {
		var buf bytes.Buffer
		now := t0
		p := &progressBar{w: &buf, tty: tty, now: func() time.Time { return now }, start: t0}
		for _, step := range []struct {
			after time.Duration
			read  int
		}{{500 * time.Millisecond, 500}, {1200 * time.Millisecond, 1000}, {2 * time.Second, 1500}, {7 * time.Second, 2000}} {
			now = t0.Add(step.after)
			p.update(step.read, 2000)
		}
		p.done()
		want := "report loyalty: 1000 of 2000 customers read\nreport loyalty: 2000 of 2000 customers read\n"
		if tty {
			want = "\r[###############...............]  50% 1000/2000 customers" +
				"\r[######################........]  75% 1500/2000 customers" +
				"\r[##############################] 100% 2000/2000 customers\r\033[K"
		}
		if buf.String() != want {
			t.Errorf("tty %v: %q, want %q", tty, buf.String(), want)
		}
	}
}
