package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// loyaltyPage is what the Loyalty page shows, read from the DOM.
type loyaltyPage struct {
	Cards map[string]struct {
		Value  string `json:"value"`
		Counts string `json:"counts"`
		Note   string `json:"note"`
	} `json:"cards"`
	Stages []struct {
		Month  string            `json:"month"`
		Counts map[string]string `json:"counts"`
	} `json:"stages"`
	Bars []struct {
		Month  string    `json:"month"`
		Titles []string  `json:"titles"`
		Height []float64 `json:"height"`
	} `json:"bars"`
	ChartLabel string `json:"chartLabel"`
	Cohorts    []struct {
		Cohort string `json:"cohort"`
		Size   string `json:"size"`
		Note   string `json:"note"`
		Cells  []struct {
			N     string `json:"n"`
			R     string `json:"r"`
			Class string `json:"class"`
		} `json:"cells"`
	} `json:"cohorts"`
	From string `json:"from"`
	To   string `json:"to"`
}

const loyaltyPageJS = `(() => {
	const txt = (e) => e ? e.textContent : '';
	const cards = {};
	document.querySelectorAll('#loyalty-body .loy-card').forEach((c) => {
		cards[c.dataset.figure] = { value: txt(c.querySelector('.loy-value')), counts: txt(c.querySelector('.loy-counts')), note: txt(c.querySelector('.loy-note')) };
	});
	const stages = [...document.querySelectorAll('#loyalty-stages-table tbody tr')].map((tr) => {
		const counts = {};
		tr.querySelectorAll('td').forEach((td) => { counts[td.dataset.stage] = td.textContent; });
		return { month: tr.dataset.month, counts };
	});
	const bars = [...document.querySelectorAll('#loyalty-chart g.loy-bar')].map((g) => ({
		month: g.dataset.month,
		titles: [...g.querySelectorAll('rect title')].map((t) => t.textContent),
		height: [...g.querySelectorAll('rect')].map((r) => Number(r.getAttribute('height'))),
	}));
	const svg = document.querySelector('#loyalty-chart svg');
	const chartLabel = svg ? svg.getAttribute('role') + ':' + (svg.getAttribute('aria-labelledby') || '').split(' ').map((id) => txt(document.getElementById(id))).join(' ') : '';
	const cohorts = [...document.querySelectorAll('#loyalty-cohorts tbody tr')].map((tr) => ({
		cohort: tr.dataset.cohort,
		size: txt(tr.querySelector('td.size')),
		note: txt(tr.querySelector('th .loy-note')),
		cells: [...tr.querySelectorAll('td[data-offset]')].map((td) => ({ n: txt(td.querySelector('.n')), r: txt(td.querySelector('.r')), class: td.className })),
	}));
	return { cards, stages, bars, chartLabel, cohorts, from: document.getElementById('loyalty-from').value, to: document.getElementById('loyalty-to').value };
})()`

// loyaltyPct is how the page writes a rate.
func loyaltyPct(r float64) string {
	return strconv.FormatFloat(math.Round(r*1000)/10, 'f', 1, 64) + " %"
}

// TestLoyalty_Browser opens the Loyalty page in headless Chromium on a shop
// seeded through the webhook endpoint and checks that every number on it is
// the API's: the cards, the stage table and chart, the cohort grid; then the
// nav, and the page at phone width.
func TestLoyalty_Browser(t *testing.T) {
	b := newConsoleTab(t)
	artifacts := os.Getenv("TREUE_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "sqlite", "")
	tok := token(t, e, "loyalty-browser", "support")
	in := e.serve(t)
	loyaltySeed(t, e, in.URL)

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	const settled = `document.getElementById('loyalty-body').getAttribute('aria-busy') === 'false' && document.querySelector('#loyalty-body .loy-card') !== null && document.querySelector('#loyalty-chart svg') !== null`

	step("DeepLinkAndSignIn", func(t *testing.T) {
		// A link to the page survives the sign-in; the only shop is filled in.
		b.do(t, "open the Loyalty page", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(in.URL+"/console/#/reports/loyalty"),
			chromedp.WaitVisible(chromedp.ID("token")), chromedp.SendKeys(chromedp.ID("token"), tok+"\n"))
		b.wait(t, "the Loyalty page with the default period", `!document.getElementById('loyalty-page').hidden && document.getElementById('customers-page').hidden && `+settled)
		if got := consoleEval[string](t, b, `document.querySelector('#nav a[aria-current="page"]').textContent`); got != "Loyalty" {
			t.Errorf("current nav link %q", got)
		}
		p := consoleEval[loyaltyPage](t, b, loyaltyPageJS)
		if p.From == "" || p.To == "" || len(p.Stages) != 12 {
			t.Errorf("default period %s to %s with %d months", p.From, p.To, len(p.Stages))
		}
	})

	var api map[string]any
	step("NumbersAreTheAPIs", func(t *testing.T) {
		b.do(t, "choose the first half of 2025", chromedp.Evaluate[chromedp.Void](`document.getElementById('loyalty-from').value = '2025-01-01'; document.getElementById('loyalty-to').value = '2025-07-01'`),
			chromedp.Click(chromedp.CSS(`#loyalty-form button[type="submit"]`)))
		b.wait(t, "the figures of 2025", settled+` && document.querySelectorAll('#loyalty-stages-table tbody tr').length === 6`)
		code, body, _ := loyaltyAPI(t, in.URL, tok, "acme", "?from=2025-01-01&to=2025-07-01")
		if code != 200 {
			t.Fatalf("API: %d %s", code, body)
		}
		api = loyaltyDecode(t, body)
		p := consoleEval[loyaltyPage](t, b, loyaltyPageJS)
		if p.From != "2025-01-01" || p.To != "2025-07-01" {
			t.Errorf("period fields %s, %s", p.From, p.To)
		}
		if h := consoleEval[string](t, b, `location.hash`); h != "#/reports/loyalty?shop=acme&from=2025-01-01&to=2025-07-01" {
			t.Errorf("hash %q", h)
		}

		num := func(v any) string { return strconv.FormatFloat(v.(float64), 'f', -1, 64) }
		obj := func(v any) map[string]any { return v.(map[string]any) }
		rp, w90, gaps := obj(api["repurchase"]), obj(obj(api["repurchase"])["within_90_days"]), obj(api["days_between_orders"])
		card := func(figure, value string, counts ...string) {
			t.Helper()
			c, ok := p.Cards[figure]
			if !ok {
				t.Errorf("no card %s: %+v", figure, p.Cards)
				return
			}
			if c.Value != value {
				t.Errorf("card %s shows %q, the API %q", figure, c.Value, value)
			}
			for _, want := range counts {
				if !strings.Contains(c.Counts+" "+c.Note, want) {
					t.Errorf("card %s says %q / %q, lacks %q", figure, c.Counts, c.Note, want)
				}
			}
		}
		card("customers", num(api["customers"]))
		card("repurchase", loyaltyPct(rp["rate"].(float64)), num(rp["repeat_customers"])+" of "+num(rp["customers"]))
		card("repurchase-90", loyaltyPct(w90["rate"].(float64)), num(w90["repeat_customers"])+" of "+num(rp["customers"]))
		if gaps["median"] != nil {
			t.Fatalf("the planted shop has too few gaps for a median: %v", gaps)
		}
		card("days-between-orders", "not enough data", "from "+num(gaps["gaps"])+" gaps", gaps["note"].(string))

		stages := api["stages"].([]any)
		if len(p.Stages) != len(stages) || len(p.Bars) != len(stages) {
			t.Fatalf("%d table rows, %d bars, the API %d months", len(p.Stages), len(p.Bars), len(stages))
		}
		for i, s := range stages {
			m := obj(s)
			counts := obj(m["counts"])
			row, bar := p.Stages[i], p.Bars[i]
			if row.Month != m["month"] || bar.Month != m["month"] {
				t.Errorf("month %d: table %s, bar %s, API %v", i, row.Month, bar.Month, m["month"])
			}
			total, segs := 0.0, 0
			for k, v := range counts {
				if row.Counts[k] != num(v) {
					t.Errorf("%s %s: table %q, API %v", row.Month, k, row.Counts[k], v)
				}
				total += v.(float64)
				if v.(float64) > 0 {
					segs++
				}
			}
			if row.Counts["total"] != num(total) || len(bar.Titles) != segs {
				t.Errorf("%s: total %q (API %v), %d segments for %d stages", row.Month, row.Counts["total"], total, len(bar.Titles), segs)
			}
			sum := 0.0
			for j, t2 := range bar.Titles {
				sum += bar.Height[j]
				if !strings.Contains(t2, " of "+num(total)+" (") {
					t.Errorf("%s segment %q does not name the total %v", row.Month, t2, total)
				}
			}
			// The bars are 184 px high (220 less the margins): 100 % of the month.
			if segs > 0 && math.Abs(sum-184) > 0.5 {
				t.Errorf("%s: the segments stack to %v px, not the full 184", row.Month, sum)
			}
		}
		if !strings.HasPrefix(p.ChartLabel, "img:Share of customers per lifecycle stage") {
			t.Errorf("chart label %q", p.ChartLabel)
		}

		cohorts := api["cohorts"].([]any)
		if len(p.Cohorts) != len(cohorts) {
			t.Fatalf("%d cohort rows, the API %d", len(p.Cohorts), len(cohorts))
		}
		shaded := 0
		for i, c := range cohorts {
			m := obj(c)
			row := p.Cohorts[i]
			retained, rates := m["retained"].([]any), m["rates"].([]any)
			if row.Cohort != m["cohort"] || row.Size != num(m["size"]) || row.Note != m["note"] || len(row.Cells) != len(retained) {
				t.Errorf("cohort row %+v, API %v", row, m)
				continue
			}
			for k, n := range retained {
				cell := row.Cells[k]
				want := ""
				if rates[k] != nil {
					want = loyaltyPct(rates[k].(float64))
					if cls := fmt.Sprintf("heat-%d", int(math.Round(rates[k].(float64)*10))); cell.Class != cls {
						t.Errorf("%s M%d: class %q, want %s", row.Cohort, k, cell.Class, cls)
					}
					shaded++
				} else if cell.Class != "" {
					t.Errorf("%s M%d is shaded (%s) without a rate", row.Cohort, k, cell.Class)
				}
				if cell.N != num(n) || cell.R != want {
					t.Errorf("%s M%d: %q %q, API %v %v", row.Cohort, k, cell.N, cell.R, n, rates[k])
				}
			}
		}
		if shaded == 0 || !strings.Contains(p.Cohorts[1].Note, "not enough data") {
			t.Errorf("the grid has %d shaded cells; February's note %q", shaded, p.Cohorts[1].Note)
		}
		b.screenshot(t, artifacts, "loyalty-1280.png")
	})

	step("Nav", func(t *testing.T) {
		b.do(t, "open Rules", chromedp.Click(chromedp.CSS(`#nav a[data-page="rules"]`)))
		b.wait(t, "the Rules page", `!document.getElementById('rules-page').hidden && document.getElementById('loyalty-page').hidden && location.hash === '#/reports/rules' && document.getElementById('rules-body').getAttribute('aria-busy') === 'false' && document.getElementById('rules-body').textContent !== ''`)
		b.do(t, "open Customers", chromedp.Click(chromedp.CSS(`#nav a[data-page="customers"]`)))
		b.wait(t, "the customer search", `!document.getElementById('customers-page').hidden && !document.getElementById('welcome').hidden && document.getElementById('rules-page').hidden && document.querySelector('#nav a[aria-current="page"]').dataset.page === 'customers'`)
		b.do(t, "open Loyalty", chromedp.Click(chromedp.CSS(`#nav a[data-page="loyalty"]`)))
		b.wait(t, "the Loyalty page again, same period", `!document.getElementById('loyalty-page').hidden && `+settled+` && document.getElementById('loyalty-from').value === '2025-01-01'`)
		// Searching from the header leaves the report for the search.
		b.do(t, "search", chromedp.SendKeys(chromedp.ID("q"), "nobody@example.org\n"))
		b.wait(t, "the results", `!document.getElementById('results').hidden && document.getElementById('loyalty-page').hidden`)
		b.do(t, "back", chromedp.Evaluate[chromedp.Void](`history.back()`))
		b.wait(t, "the Loyalty page after back", `!document.getElementById('loyalty-page').hidden && `+settled)
	})

	step("Phone", func(t *testing.T) {
		b.do(t, "open the period's link at 375 px", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile),
			chromedp.Navigate(in.URL+"/console/#/reports/loyalty?shop=acme&from=2025-01-01&to=2025-07-01"), chromedp.Reload())
		b.wait(t, "the figures at 375 px", settled+` && document.querySelectorAll('#loyalty-cohorts tbody tr').length === 6`)
		layout := consoleEval[map[string]float64](t, b, `(() => {
			const svg = document.querySelector('#loyalty-chart svg').getBoundingClientRect();
			const grid = document.querySelector('#loyalty-cohorts').closest('.loy-scroll');
			return { scroll: document.documentElement.scrollWidth, svg: svg.right, gridBox: grid.getBoundingClientRect().right, gridScroll: grid.scrollWidth, gridClient: grid.clientWidth };
		})()`)
		if layout["scroll"] > 375 || layout["svg"] > 375 || layout["gridBox"] > 375 {
			t.Errorf("wider than 375 px: %v", layout)
		}
		if layout["gridScroll"] <= layout["gridClient"] {
			t.Logf("the cohort grid fits without scrolling: %v", layout)
		}
		p := consoleEval[loyaltyPage](t, b, loyaltyPageJS)
		if p.Cards["customers"].Value != strconv.FormatFloat(api["customers"].(float64), 'f', -1, 64) || len(p.Bars) != 6 {
			t.Errorf("at 375 px: %+v", p.Cards)
		}
		b.screenshot(t, artifacts, "loyalty-375.png")
	})
}
