package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// consoleBudgetRules gives each order two costed codes 70 days after it is
// placed; 40.00 a month pay for the codes of two orders and a half.
const consoleBudgetRules = `defaults: {timezone: Europe/Berlin, currency: EUR}
budget: {monthly: "40.00", currency: EUR}
rules:
  - id: thanks-code
    on: [order.placed]
    kind: service
    when: {after: 70d}
    limit: {once_per: order}
    action: {type: promo_code, params: {amount: "10.00"}}
  - id: welcome-code
    on: [order.placed]
    kind: service
    when: {after: 70d}
    limit: {once_per: order}
    action: {type: promo_code, params: {amount: "5.00"}}
`

// budgetPage is what the Budget page shows, read from the DOM.
type budgetPage struct {
	Rows []struct {
		Month   string `json:"month"`
		Main    string `json:"main"`
		Actions string `json:"actions"`
		Held    string `json:"held"`
		Label   string `json:"label"`
		Track   string `json:"track"`
		Marker  string `json:"marker"`
		Segs    []struct {
			Rule  string `json:"rule"`
			X     string `json:"x"`
			Width string `json:"width"`
			Title string `json:"title"`
			Num   string `json:"num"`
			Class string `json:"class"`
		} `json:"segs"`
	} `json:"rows"`
	Legend []string          `json:"legend"`
	Table  map[string]string `json:"table"`
	Head   []string          `json:"head"`
	None   string            `json:"none"`
	From   string            `json:"from"`
	To     string            `json:"to"`
	Nav    string            `json:"nav"`
}

const budgetPageJS = `(() => {
	const txt = (e) => e ? e.textContent : '';
	const rows = [...document.querySelectorAll('#budget-chart li.bud-row')].map((li) => {
		const s = li.querySelector('svg');
		return {
			month: li.dataset.month, main: txt(li.querySelector('.bud-main')), actions: txt(li.querySelector('.bud-actions')),
			held: txt(li.querySelector('.bud-held')), label: s.getAttribute('role') + ':' + s.getAttribute('aria-label'),
			track: s.querySelector('.bud-track').getAttribute('width'), marker: s.querySelector('.bud-marker').getAttribute('x1'),
			segs: [...s.querySelectorAll('g.bud-seg')].map((g) => {
				const r = g.querySelector('rect');
				return { rule: g.dataset.rule, x: r.getAttribute('x'), width: r.getAttribute('width'), title: txt(r.querySelector('title')),
					num: txt(g.querySelector('text')), class: r.getAttribute('class') };
			}),
		};
	});
	const table = {};
	document.querySelectorAll('#budget-table tbody tr, #budget-table tfoot tr').forEach((tr) => {
		table[tr.dataset.rule || txt(tr.querySelector('th'))] = [...tr.children].map((c) => c.textContent).join(' | ');
	});
	return { rows, table,
		legend: [...document.querySelectorAll('#budget-legend li')].map((li) => li.textContent),
		head: [...document.querySelectorAll('#budget-table thead th')].map((th) => th.dataset.month || th.textContent),
		none: txt(document.getElementById('budget-none')),
		from: document.getElementById('budget-from').value, to: document.getElementById('budget-to').value,
		nav: txt(document.querySelector('#nav a[aria-current="page"]')) };
})()`

// budgetAPI is the part of GET reports/budget the page draws.
type budgetAPI struct {
	Monthly  *string `json:"monthly"`
	Currency string  `json:"currency"`
	Months   []struct {
		Month      string `json:"month"`
		Spent      string `json:"spent"`
		SpentCents int64  `json:"spent_cents"`
		Actions    int    `json:"actions"`
		Held       int    `json:"held"`
		HeldValue  string `json:"held_value"`
		Rules      []struct {
			RuleID  string `json:"rule_id"`
			Spent   string `json:"spent"`
			Actions int    `json:"actions"`
			Held    int    `json:"held"`
		} `json:"rules"`
	} `json:"months"`
}

// TestBudget_Browser: the console's Budget page draws, for orders sent as
// signed webhooks under a budget, each month's spend as bars split by rule
// against the budget's marker, with the API's figures beside them and in
// the table; a month without spend says so; and a Treue whose rules set no
// budget says what to add instead of drawing an empty chart.
func TestBudget_Browser(t *testing.T) {
	b := newConsoleTab(t)
	artifacts := os.Getenv("TREUE_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	rulesPath := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rulesPath, []byte(consoleBudgetRules), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "sqlite", "rules:\n  file: "+rulesPath+"\n")
	tok := token(t, e, "budget-browser", "support")
	in := e.serve(t)

	// Due 70 days after it is placed, an order of dueIn(m, d) spends the
	// budget of month m (Europe/Berlin) on its day d: M1 and M2 are the next
	// two months, this month (M0) spends nothing.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	l := time.Now().In(berlin)
	m0 := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, berlin)
	m1, m2 := m0.AddDate(0, 1, 0), m0.AddDate(0, 2, 0)
	dueIn := func(m time.Time, day int) string {
		return m.AddDate(0, 0, day-1).Add(9 * time.Hour).Add(-70 * 24 * time.Hour).UTC().Format(time.RFC3339)
	}
	for i, o := range []struct {
		customer, id string
		m            time.Time
		day          int
	}{{"c-1", "o-1", m1, 3}, {"c-2", "o-2", m1, 10}, {"c-3", "o-3", m1, 20}, {"c-1", "o-4", m2, 5}} {
		at := dueIn(o.m, o.day)
		body := fmt.Sprintf(`{"type":"order.placed","timestamp":%q,"data":{"customer":{"id":%q,"email":"%s@example.org"},"order":{"id":%q,"placed_at":%q,"currency":"EUR","total":"59.80","items":[{"sku":"BEAN-ESP-1KG","quantity":2,"unit_price":"29.90"}]}}}`,
			at, o.customer, o.customer, o.id, at)
		if code, m := post(t, in.URL+"/webhooks/standard/acme", fmt.Sprintf("cb-%d", i), body); code != 200 {
			t.Fatalf("order %d: %d %v", i, code, m)
		}
		waitDrained(t, e)
	}
	from, to := m0.Format(time.DateOnly), m0.AddDate(0, 3, 0).Format(time.DateOnly)
	var api budgetAPI
	if code := getJSON(t, in.URL+"/api/v1/shops/acme/reports/budget?from="+from+"&to="+to, tok, &api); code != 200 || api.Monthly == nil || len(api.Months) != 3 {
		t.Fatalf("API: %d %+v", code, api)
	}
	// The third order in M1 finds 10.00 left: one of its two codes is held back.
	if mo := api.Months[1]; mo.Held != 1 || mo.Actions != 5 || mo.SpentCents > 4000 || len(mo.Rules) != 2 {
		t.Fatalf("API M1: %+v", mo)
	}

	b.do(t, "open the Budget page", chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(in.URL+"/console/#/reports/budget?shop=acme&from="+from+"&to="+to),
		chromedp.WaitVisible(chromedp.ID("token")), chromedp.SendKeys(chromedp.ID("token"), tok+"\n"))
	b.wait(t, "the report", `!document.getElementById('budget-page').hidden && document.getElementById('budget-body').getAttribute('aria-busy') === 'false' && document.querySelectorAll('#budget-chart li.bud-row').length === 3`)
	p := consoleEval[budgetPage](t, b, budgetPageJS)

	if p.Nav != "Budget" || p.From != from || p.To != to {
		t.Errorf("nav %q, period %s to %s, want Budget, %s to %s", p.Nav, p.From, p.To, from, to)
	}
	if strings.Join(p.Legend, ",") != "1thanks-code,2welcome-code,the monthly budget" {
		t.Errorf("legend %q", p.Legend)
	}
	budget, _ := strconv.ParseFloat(*api.Monthly, 64)
	budgetCents := int64(math.Round(budget * 100))
	scale := float64(budgetCents)
	for _, mo := range api.Months {
		scale = math.Max(scale, float64(mo.SpentCents))
	}
	pctOf := func(c int64) float64 { return float64(c) / scale * 100 }
	attr := func(s string) float64 {
		v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil || !strings.HasSuffix(s, "%") {
			t.Errorf("attribute %q is not a percentage", s)
		}
		return v
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 0.01 }
	for i, mo := range api.Months {
		row := p.Rows[i]
		if row.Month != mo.Month {
			t.Fatalf("row %d is %s, want %s", i, row.Month, mo.Month)
		}
		if !near(attr(row.Track), pctOf(budgetCents)) || !near(attr(row.Marker), pctOf(budgetCents)) {
			t.Errorf("%s: budget drawn at %s/%s, want %.3f%%", mo.Month, row.Track, row.Marker, pctOf(budgetCents))
		}
		if mo.Actions == 0 {
			if row.Main != "nothing spent yet" || len(row.Segs) != 0 || !strings.Contains(row.Label, "nothing spent yet") {
				t.Errorf("%s without spend: %+v", mo.Month, row)
			}
			continue
		}
		want := fmt.Sprintf("%s of %s EUR, %d %%", mo.Spent, *api.Monthly, int64(math.Round(float64(mo.SpentCents)*100/float64(budgetCents))))
		if row.Main != want || row.Actions != fmt.Sprintf("%d costed actions", mo.Actions) || !strings.HasPrefix(row.Label, "img:"+mo.Month+": "+want) {
			t.Errorf("%s: figures %q, %q, label %q; want %q and %d costed actions", mo.Month, row.Main, row.Actions, row.Label, want, mo.Actions)
		}
		if mo.Held > 0 && row.Held != fmt.Sprintf("%d action held back (budget_exhausted), %s EUR", mo.Held, mo.HeldValue) {
			t.Errorf("%s: held %q, want %d (%s)", mo.Month, row.Held, mo.Held, mo.HeldValue)
		} else if mo.Held == 0 && row.Held != "" {
			t.Errorf("%s: held %q, want none", mo.Month, row.Held)
		}
		// The segments: each rule's spend, stacked left to right, in the legend's colour and number.
		if len(row.Segs) != len(mo.Rules) {
			t.Fatalf("%s: %d segments, want %d: %+v", mo.Month, len(row.Segs), len(mo.Rules), row.Segs)
		}
		x := 0.0
		for j, r := range mo.Rules {
			s := row.Segs[j]
			spent, _ := strconv.ParseFloat(r.Spent, 64)
			w := pctOf(int64(math.Round(spent * 100)))
			n := map[string]string{"thanks-code": "1", "welcome-code": "2"}[r.RuleID]
			if s.Rule != r.RuleID || !near(attr(s.X), x) || !near(attr(s.Width), w) || s.Num != n || s.Class != "bud-c"+strconv.Itoa(j) ||
				s.Title != fmt.Sprintf("%s · %s: %s EUR, %s", mo.Month, r.RuleID, r.Spent, fmt.Sprintf("%d %s", r.Actions, plural(int64(r.Actions), "action", "actions"))) {
				t.Errorf("%s segment %d: %+v, want %s at %.3f%% width %.3f%%", mo.Month, j, s, r.RuleID, x, w)
			}
			x += w
		}
		if x > pctOf(budgetCents)+0.01 {
			t.Errorf("%s: the bar ends at %.3f%%, past the budget", mo.Month, x)
		}
	}
	// The table: per rule and month the spend and its actions, the totals, what remains.
	if strings.Join(p.Head, ",") != "Rule,"+api.Months[0].Month+","+api.Months[1].Month+","+api.Months[2].Month+",Period" {
		t.Errorf("table head %q", p.Head)
	}
	m1r := map[string]string{}
	for _, r := range api.Months[1].Rules {
		m1r[r.RuleID] = r.Spent + fmt.Sprintf("%d %s", r.Actions, plural(int64(r.Actions), "action", "actions"))
		if r.Held > 0 {
			m1r[r.RuleID] += fmt.Sprintf("%d held back", r.Held)
		}
	}
	for _, rule := range []string{"thanks-code", "welcome-code"} {
		if !strings.Contains(p.Table[rule], "— | "+m1r[rule]) {
			t.Errorf("table row %s: %q, want M0 empty and M1 %q", rule, p.Table[rule], m1r[rule])
		}
	}
	all := p.Table["(all)"]
	if !strings.HasPrefix(all, "All rules | — | "+api.Months[1].Spent+"5 actions1 held back, "+api.Months[1].HeldValue+" | "+api.Months[2].Spent+"2 actions") {
		t.Errorf("totals row %q", all)
	}
	if rem := p.Table["Remaining"]; !strings.HasPrefix(rem, "Remaining | 40.00 | ") {
		t.Errorf("remaining row %q", rem)
	}
	if p.None != "" {
		t.Errorf("a shop with a budget is told it has none: %q", p.None)
	}
	if txt := consoleEval[string](t, b, `document.getElementById('budget-body').textContent`); strings.Contains(txt, "null") || strings.Contains(txt, "undefined") || strings.Contains(txt, "NaN") {
		t.Errorf("the page shows %q", txt)
	}
	b.screenshot(t, artifacts, "budget-1280.png")

	// The nav leads away and back; the form shows another period.
	b.do(t, "open Customers", chromedp.Click(chromedp.CSS(`#nav a[data-page="customers"]`)))
	b.wait(t, "the customer search", `!document.getElementById('customers-page').hidden && document.getElementById('budget-page').hidden`)
	b.do(t, "open Budget", chromedp.Click(chromedp.CSS(`#nav a[data-page="budget"]`)))
	b.wait(t, "the Budget page again", `!document.getElementById('budget-page').hidden && location.hash === '#/reports/budget' && document.getElementById('budget-body').getAttribute('aria-busy') === 'false' && document.querySelectorAll('#budget-chart li.bud-row').length === 3`)
	b.do(t, "choose M2 alone", chromedp.Evaluate[chromedp.Void](`document.getElementById('budget-from').value = '`+m2.Format(time.DateOnly)+`'; document.getElementById('budget-to').value = '`+m2.AddDate(0, 1, 0).Format(time.DateOnly)+`'`),
		chromedp.Click(chromedp.CSS(`#budget-form button[type="submit"]`)))
	b.wait(t, "M2 alone", `document.getElementById('budget-body').getAttribute('aria-busy') === 'false' && document.querySelectorAll('#budget-chart li.bud-row').length === 1`)
	if p := consoleEval[budgetPage](t, b, budgetPageJS); p.Nav != "Budget" || p.Rows[0].Month != api.Months[2].Month || p.Rows[0].Main != api.Months[2].Spent+" of 40.00 EUR, 38 %" ||
		consoleEval[string](t, b, `location.hash`) != "#/reports/budget?shop=acme&from="+m2.Format(time.DateOnly)+"&to="+m2.AddDate(0, 1, 0).Format(time.DateOnly) {
		t.Errorf("M2 alone: %+v", p)
	}
	b.do(t, "at 375 px", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	if w := consoleEval[float64](t, b, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("the Budget page is %v px wide at 375 px", w)
	}
	b.screenshot(t, artifacts, "budget-375.png")

	// A budget lowered below what M1 spent: its bar runs past the line, the
	// figures say so in words as well as in colour.
	if err := os.WriteFile(rulesPath, []byte(strings.Replace(consoleBudgetRules, `monthly: "40.00"`, `monthly: "30.00"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	os.Chtimes(rulesPath, later, later)
	waitFor(t, func() bool {
		api = budgetAPI{}
		getJSON(t, in.URL+"/api/v1/shops/acme/reports/budget?from="+from+"&to="+to, tok, &api)
		return api.Monthly != nil && *api.Monthly == "30.00"
	})
	b.do(t, "show the three months again", chromedp.EmulateViewport(1280, 900),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('budget-from').value = '`+from+`'; document.getElementById('budget-to').value = '`+to+`'`),
		chromedp.Click(chromedp.CSS(`#budget-form button[type="submit"]`)))
	b.wait(t, "the lowered budget", `document.getElementById('budget-body').getAttribute('aria-busy') === 'false' && document.querySelectorAll('#budget-chart li.bud-row').length === 3 && document.querySelector('#budget-chart li.bud-row[data-month="`+api.Months[1].Month+`"]').classList.contains('bud-over')`)
	p = consoleEval[budgetPage](t, b, budgetPageJS)
	over := api.Months[1]
	overScale := float64(over.SpentCents) // the widest bar sets the scale
	if want := fmt.Sprintf("%s of 30.00 EUR, %d %%", over.Spent, int64(math.Round(float64(over.SpentCents)*100/3000))); p.Rows[1].Main != want ||
		!near(attr(p.Rows[1].Marker), 3000/overScale*100) || !near(attr(p.Rows[2].Marker), 3000/overScale*100) {
		t.Errorf("over the budget: %q (want %q), marker at %s, want %.3f%%", p.Rows[1].Main, want, p.Rows[1].Marker, 3000/overScale*100)
	}
	if segs := p.Rows[1].Segs; len(segs) != 2 || !near(attr(segs[1].X)+attr(segs[1].Width), 100) {
		t.Errorf("over the budget, the bar ends at %+v, want 100%%", segs)
	}
	if txt := consoleEval[string](t, b, `document.querySelector('.bud-over .bud-overrun').textContent`); txt != fmt.Sprintf("over the budget by %.2f EUR", float64(over.SpentCents-3000)/100) {
		t.Errorf("over the budget is said by colour alone: %q", txt)
	}
	if n := consoleEval[int](t, b, `document.querySelectorAll('.bud-overrun').length`); n != 1 {
		t.Errorf("%d months over the budget, want 1", n)
	}
	b.screenshot(t, artifacts, "budget-over-1280.png")

	// Without a budget in the rules file: say so, and what to add; the
	// costs still recorded are in the table, no chart is drawn.
	noBudget := filepath.Join(filepath.Dir(rulesPath), "no-budget.yaml")
	if err := os.WriteFile(noBudget, []byte(strings.Replace(consoleBudgetRules, "budget: {monthly: \"40.00\", currency: EUR}\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, "sqlite", "rules:\n  file: "+noBudget+"\n")
	tok2 := token(t, e2, "budget-browser", "support")
	in2 := e2.serve(t)
	at := dueIn(m1, 3)
	if code, m := post(t, in2.URL+"/webhooks/standard/acme", "nb-1", fmt.Sprintf(`{"type":"order.placed","timestamp":%q,"data":{"customer":{"id":"c-9","email":"c-9@example.org"},"order":{"id":"o-9","placed_at":%q,"currency":"EUR","total":"59.80","items":[{"sku":"BEAN-ESP-1KG","quantity":2,"unit_price":"29.90"}]}}}`, at, at)); code != 200 {
		t.Fatalf("order: %d %v", code, m)
	}
	waitDrained(t, e2)
	var api2 budgetAPI
	if code := getJSON(t, in2.URL+"/api/v1/shops/acme/reports/budget?from="+from+"&to="+to, tok2, &api2); code != 200 || api2.Monthly != nil || api2.Months[1].Actions != 2 {
		t.Fatalf("API without a budget: %d %+v", code, api2)
	}
	b.do(t, "open the Budget page without a budget", chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(in2.URL+"/console/#/reports/budget?shop=acme&from="+from+"&to="+to),
		chromedp.WaitVisible(chromedp.ID("token")), chromedp.SendKeys(chromedp.ID("token"), tok2+"\n"))
	b.wait(t, "the notice", `!document.getElementById('budget-page').hidden && document.getElementById('budget-body').getAttribute('aria-busy') === 'false' && document.getElementById('budget-none') !== null`)
	p = consoleEval[budgetPage](t, b, budgetPageJS)
	if !strings.Contains(p.None, "No budget configured") || !strings.Contains(p.None, `budget: {monthly: "2000.00", currency: EUR}`) ||
		len(p.Rows) != 0 || consoleEval[bool](t, b, `document.getElementById('budget-chart') !== null`) {
		t.Errorf("without a budget: %+v", p)
	}
	if !strings.HasPrefix(p.Table["thanks-code"], "thanks-code | — | 10.001 action") || !strings.HasPrefix(p.Table["(all)"], "All rules | — | 15.002 actions") {
		t.Errorf("table without a budget: %q", p.Table)
	}
	if txt := consoleEval[string](t, b, `document.getElementById('budget-body').textContent`); strings.Contains(txt, "null") || strings.Contains(txt, "undefined") || strings.Contains(txt, "NaN") || strings.Contains(txt, " %") {
		t.Errorf("the page without a budget shows %q", txt)
	}
	b.screenshot(t, artifacts, "budget-none-1280.png")
}
