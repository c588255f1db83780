package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRules_Browser: the console's Rules page shows, for a seeded shop, the
// API's figures: each group's counts and rate, the uplift with its interval
// (drawn as a bar), and a sparkline of the sends.
func TestRules_Browser(t *testing.T) {
	b := newConsoleTab(t)
	artifacts := os.Getenv("TREUE_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "sqlite", "")
	tok := token(t, e, "rules-browser", "support")
	in := e.serve(t)
	from, to := plantOutcomes(t, e.store(t), 200)
	q := "?shop=acme&from=" + from.Format(time.DateOnly) + "&to=" + to.Format(time.DateOnly)

	b.do(t, "open the Rules page", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(in.URL+"/console/#/reports/rules"+q),
		chromedp.WaitVisible(chromedp.ID("token")), chromedp.SendKeys(chromedp.ID("token"), tok+"\n"))
	b.wait(t, "the report", `!document.getElementById('rules-page').hidden && document.getElementById('rules-body').getAttribute('aria-busy') === 'false' && document.querySelector('#rules-body tr[data-rule]') !== null`)

	var api struct {
		Rules []struct {
			RuleID    string `json:"rule_id"`
			Treatment struct {
				Customers, Converted int
				Rate                 float64
			} `json:"treatment"`
			Holdout struct {
				Customers, Converted int
				Rate                 float64
			} `json:"holdout"`
			Uplift struct {
				Absolute float64 `json:"absolute"`
				CILow    float64 `json:"ci_low"`
				CIHigh   float64 `json:"ci_high"`
			} `json:"uplift"`
		} `json:"rules"`
	}
	if code := getJSON(t, in.URL+"/api/v1/shops/acme/reports/rules"+strings.Replace(q, "?shop=acme&", "?", 1), tok, &api); code != 200 || len(api.Rules) != 1 {
		t.Fatalf("API: %d %+v", code, api)
	}
	type row struct {
		Treatment, Holdout, Uplift, Spark string
		Bar                               bool
	}
	got := consoleEval[row](t, b, `(() => {
		const tr = document.querySelector('#rules-body tr[data-rule="reorder-reminder"]');
		return { treatment: tr.querySelector('td.treatment').textContent, holdout: tr.querySelector('td.holdout').textContent,
			uplift: tr.querySelector('td.uplift').textContent, bar: tr.querySelector('td.uplift svg.uplift-bar') !== null,
			spark: (tr.querySelector('td[data-label="Sends per week"] svg') || {getAttribute: () => ''}).getAttribute('aria-label') };
	})()`)
	r := api.Rules[0]
	pct := func(v float64) string { return fmt.Sprintf("%.1f %%", v*100) }
	pts := func(v float64) string {
		s := fmt.Sprintf("%.1f", v*100)
		if v >= 0 {
			return "+" + s
		}
		return "−" + s[1:]
	}
	for _, c := range []struct{ cell, want string }{
		{got.Treatment, pct(r.Treatment.Rate)}, {got.Treatment, fmt.Sprintf("%d of %d customers", r.Treatment.Converted, r.Treatment.Customers)},
		{got.Holdout, pct(r.Holdout.Rate)}, {got.Holdout, fmt.Sprintf("%d of %d customers", r.Holdout.Converted, r.Holdout.Customers)},
		{got.Uplift, pts(r.Uplift.Absolute) + " points [" + pts(r.Uplift.CILow) + ", " + pts(r.Uplift.CIHigh) + "]"},
	} {
		if !strings.Contains(c.cell, c.want) {
			t.Errorf("the page shows %q, want the API's %q", c.cell, c.want)
		}
	}
	if !got.Bar || !strings.Contains(got.Spark, "sent over") {
		t.Errorf("charts missing: bar %v, sparkline %q", got.Bar, got.Spark)
	}
	b.screenshot(t, artifacts, "rules-1280.png")
	b.do(t, "at 375 px", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	if w := consoleEval[float64](t, b, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("the Rules page is %v px wide at 375 px", w)
	}
	b.screenshot(t, artifacts, "rules-375.png")
}
