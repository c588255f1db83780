package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// consoleChromium returns the Chromium to drive: $TREUE_CHROMIUM, else
// /usr/bin/chromium. Without either the test skips, except on CI, where it
// must run.
func consoleChromium(t *testing.T) string {
	t.Helper()
	var tried []string
	for _, p := range []string{os.Getenv("TREUE_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
		tried = append(tried, p)
	}
	msg := fmt.Sprintf("no Chromium at %s: install it (apt-get install -y chromium) or set TREUE_CHROMIUM", strings.Join(tried, " or "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI must run the browser test")
	}
	t.Skip(msg)
	return ""
}

// consoleTab drives one headless Chromium tab and fails the test on an
// uncaught exception in the page.
type consoleTab struct {
	ctx context.Context

	mu     sync.Mutex
	errors []string
}

func newConsoleTab(t *testing.T) *consoleTab {
	t.Helper()
	exe := consoleChromium(t)
	profile := t.TempDir() // removed after the browser has stopped (cleanups run last in, first out)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
	})
	// The first run starts the browser; it must have no timeout of its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	tab := &consoleTab{ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() {
				tab.mu.Lock()
				tab.errors = append(tab.errors, m.String())
				tab.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		tab.mu.Lock()
		defer tab.mu.Unlock()
		for _, e := range tab.errors {
			t.Errorf("page exception: %s", e)
		}
	})
	return tab
}

// do runs browser steps with a time limit.
func (b *consoleTab) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v\npage: %s", what, err, b.text())
	}
}

// wait polls a JavaScript condition until it holds.
func (b *consoleTab) wait(t *testing.T, what, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("waiting for %s (%s): %v\npage: %s", what, cond, err, b.text())
	}
}

// consoleEval evaluates a JavaScript expression into a T.
func consoleEval[T any](t *testing.T, b *consoleTab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// text is the visible text of the page, for failure messages.
func (b *consoleTab) text() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

func (b *consoleTab) screenshot(t *testing.T, dir, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	// From the top, so that the sticky header and profile sit where a reader sees them.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

// consoleJourney posts one customer's journey through the real webhook
// endpoint: consent, an order delivered late, a second order returned. The
// example rules plan actions for it, scheduled, cancelled and suppressed ones.
func consoleJourney(t *testing.T, e *testEnv, baseURL string) {
	t.Helper()
	url := baseURL + "/webhooks/standard/acme"
	t0 := time.Now().UTC().Add(-20 * 24 * time.Hour).Truncate(time.Second)
	at := func(h float64) string { return ts(t0.Add(time.Duration(h * float64(time.Hour)))) }
	cust := `"customer":{"id":"c-501","number":"C10501","email":"Carla@Example.org","first_name":"Carla"}`
	order := func(id string, h float64, qty int) string {
		return fmt.Sprintf(`{"type":"order.placed","timestamp":%q,"data":{%s,"order":{"id":%q,"number":"N-%s","placed_at":%q,"currency":"EUR","total":"59.80","items":[{"sku":"BEAN-ESP-1KG","category":"beans","quantity":%d,"unit_price":"29.90"}]}}}`, at(h), cust, id, id, at(h), qty)
	}
	step := func(typ, id string, h float64, extra string) string {
		return fmt.Sprintf(`{"type":%q,"timestamp":%q,"data":{%s,"order":{"id":%q}%s}}`, typ, at(h), cust, id, extra)
	}
	journey := []string{
		fmt.Sprintf(`{"type":"consent.granted","timestamp":%q,"data":{%s,"consent":{"channel":"email","at":%q}}}`, at(-1), cust, at(-1)),
		order("o-1", 0, 2),
		step("order.paid", "o-1", 0.1, ""),
		step("shipment.shipped", "o-1", 20, fmt.Sprintf(`,"shipment":{"id":"s-1","carrier":"DHL","shipped_at":%q,"promised_delivery_at":%q}`, at(20), at(44))),
		step("shipment.delivered", "o-1", 70, fmt.Sprintf(`,"shipment":{"id":"s-1","delivered_at":%q}`, at(70))),
		order("o-2", 200, 1),
		step("order.paid", "o-2", 200.1, ""),
		step("shipment.shipped", "o-2", 210, fmt.Sprintf(`,"shipment":{"id":"s-2","shipped_at":%q}`, at(210))),
		step("shipment.delivered", "o-2", 230, fmt.Sprintf(`,"shipment":{"id":"s-2","delivered_at":%q}`, at(230))),
		step("return.requested", "o-2", 300, fmt.Sprintf(`,"return":{"id":"r-1","requested_at":%q,"reason":"too bitter","items":[{"sku":"BEAN-ESP-1KG","quantity":1}]}`, at(300))),
		step("return.received", "o-2", 320, fmt.Sprintf(`,"return":{"id":"r-1","received_at":%q,"items":[{"sku":"BEAN-ESP-1KG","quantity":1}]}`, at(320))),
	}
	for i, body := range journey {
		if code, m := post(t, url, fmt.Sprintf("console-%d", i), body); code != 200 {
			t.Fatalf("step %d: %d %v", i, code, m)
		}
		waitDrained(t, e) // in order, as the rules expect
	}
}

type consoleItem struct {
	Kind   string `json:"kind"`
	Type   string `json:"type"`
	Status string `json:"status"`
	Badge  string `json:"badge"`
	Rule   string `json:"rule"`
	Why    string `json:"why"`
	Icon   string `json:"icon"`
}

// consoleAPITimeline reads a customer's whole timeline from the API.
func consoleAPITimeline(t *testing.T, base, tok, id string) []map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/shops/acme/customers/"+id+"/timeline?limit=200", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 {
		t.Fatalf("timeline of %s: %d %v", id, resp.StatusCode, err)
	}
	return page.Items
}

// consoleItemsJS reads the rendered timeline.
const consoleItemsJS = `[...document.querySelectorAll('#timeline-list > li')].map((li) => ({
	kind: li.classList.contains('action') ? 'action' : 'event',
	type: li.dataset.type || '',
	status: li.dataset.status || '',
	badge: (li.querySelector('.badge') || {}).textContent || '',
	rule: (li.querySelector('code.rule') || {}).textContent || '',
	why: (li.querySelector('.why') || {}).textContent || '',
	icon: (li.querySelector('.marker use') || { getAttribute: () => '' }).getAttribute('href'),
}))`

// timelineSettled: the list is not loading and holds n entries.
func timelineSettled(n int) string {
	return fmt.Sprintf(`document.getElementById('timeline-list').getAttribute('aria-busy') === 'false' && document.querySelectorAll('#timeline-list > li').length === %d`, n)
}

// TestConsole_Browser signs in to the console in headless Chromium, finds a
// customer seeded through the webhook endpoint and reads the profile and the
// timeline, at desktop and at phone width.
func TestConsole_Browser(t *testing.T) {
	b := newConsoleTab(t)
	artifacts := os.Getenv("TREUE_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	e := newEnv(t, "sqlite", "rules:\n  file: "+exampleRules(t, dir)+"\n")
	out, err := e.run(t, "tokens", "create", "--name", "browser", "--role", "support")
	if err != nil {
		t.Fatalf("tokens create: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	tok := strings.TrimSpace(lines[len(lines)-1])
	in := e.serve(t)
	consoleJourney(t, e, in.URL)

	// A page of 8 entries, so that "load more" has work to do.
	b.do(t, "open the console", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(in.URL+"/console/?limit=8"),
		chromedp.WaitVisible(chromedp.ID("token")))
	if !consoleEval[bool](t, b, `document.activeElement.id === 'token'`) {
		t.Error("the token field does not have the focus on the sign-in form")
	}

	// The steps build on each other: stop at the first that fails.
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	step("InvalidToken", func(t *testing.T) {
		// A wrong token is refused at sign-in, not at the first search.
		b.do(t, "sign in with a wrong token",
			chromedp.SendKeys(chromedp.ID("token"), "treue_not_a_real_token\n"))
		b.wait(t, "the sign-in form with the invalid-token message",
			`!document.getElementById('signin').hidden && !document.getElementById('signin-error').hidden && document.getElementById('signin-error').textContent.includes('This token is not valid') && document.getElementById('app').hidden`)
		if !consoleEval[bool](t, b, `document.activeElement.id === 'token' && sessionStorage.getItem('treue.console.token') === null`) {
			t.Error("after a 401 the token must be forgotten and the token field focused")
		}
		b.screenshot(t, artifacts, "console-invalid-token-1280.png")
	})

	step("SignInAndSearch", func(t *testing.T) {
		// The shop field offers the shops; with one, it is filled in.
		b.do(t, "sign in", chromedp.SendKeys(chromedp.ID("token"), tok+"\n"))
		b.wait(t, "the search form with the shop filled in", `!document.getElementById('app').hidden && document.getElementById('shop').value === 'acme' && document.querySelector('#shop-list option[value="acme"]') !== null`)
		b.do(t, "search", chromedp.SendKeys(chromedp.ID("q"), "carla@example.org\n"))
		b.wait(t, "the profile card with the customer's name", `(document.getElementById('profile-title') || {}).textContent === 'Carla'`)
		type profile struct {
			Stats map[string]string `json:"stats"`
			Text  string            `json:"text"`
			Stage string            `json:"stage"`
			Hash  string            `json:"hash"`
		}
		p := consoleEval[profile](t, b, `(() => {
			const stats = {};
			document.querySelectorAll('#profile .stats > div').forEach((d) => { stats[d.querySelector('dt').textContent] = d.querySelector('dd').textContent; });
			return { stats, text: document.getElementById('profile').innerText, stage: (document.querySelector('#profile .badge.stage') || {}).textContent || '', hash: location.hash };
		})()`)
		if p.Stats["Orders"] != "2" || p.Stats["Returns"] != "1" || p.Stats["Positive"] != "1" || p.Stage == "" {
			t.Errorf("profile figures %v, stage %q", p.Stats, p.Stage)
		}
		for _, want := range []string{"carla@example.org", "C10501", "c-501", "Marketing consent", "beans", "BEAN-ESP-1KG", "Treue id", "times in Europe/Berlin"} {
			if !strings.Contains(p.Text, want) {
				t.Errorf("profile card lacks %q:\n%s", want, p.Text)
			}
		}
		if !strings.HasPrefix(p.Hash, "#/acme/customers/") {
			t.Errorf("location hash %q does not name the customer", p.Hash)
		}
		if got := consoleEval[string](t, b, `localStorage.getItem('treue.console.shop')`); got != "acme" {
			t.Errorf("remembered shop %q", got)
		}
	})

	// What the API holds for the customer, to compare the pages with.
	var total, actions int
	for _, it := range consoleAPITimeline(t, in.URL, tok, consoleEval[string](t, b, `location.hash.split('/').pop()`)) {
		total++
		if it["kind"] == "action" {
			actions++
		}
	}
	if total < 17 || actions < 8 {
		t.Fatalf("the journey left %d entries, %d of them actions; the test needs more than 16 and 8", total, actions)
	}
	step("Timeline", func(t *testing.T) {
		b.wait(t, "the first page", timelineSettled(8))
		if !consoleEval[bool](t, b, `!document.getElementById('more').hidden`) {
			t.Fatal(`no "Load more" after a full page`)
		}
		b.do(t, "load more", chromedp.Click(chromedp.ID("more")))
		b.wait(t, "the second page", timelineSettled(16))
		if total > 24 {
			t.Fatalf("%d entries: more than three pages of 8", total)
		}
		if !consoleEval[bool](t, b, `document.activeElement === document.querySelectorAll('#timeline-list > li')[8]`) {
			t.Error(`"Load more" does not move the focus to the first new entry`)
		}
		b.do(t, "load the rest", chromedp.Click(chromedp.ID("more")))
		b.wait(t, "the last page", timelineSettled(total))
		if !consoleEval[bool](t, b, `document.getElementById('more').hidden`) {
			t.Error(`"Load more" still shown on the last page`)
		}
		items := consoleEval[[]consoleItem](t, b, consoleItemsJS)
		seen := map[string]int{}
		var suppressed, scheduled, cancelled int
		for _, it := range items {
			seen[it.Type]++
			if it.Icon == "" || it.Icon == "#i-dot" {
				t.Errorf("%s has no icon of its own (%q)", it.Type, it.Icon)
			}
			if it.Kind != "action" {
				continue
			}
			if it.Rule == "" || !strings.Contains(it.Why, "Rules version") || !strings.Contains(it.Why, "Triggered by") {
				t.Errorf("action %s lacks its why: %+v", it.Type, it)
			}
			switch it.Status {
			case "suppressed":
				suppressed++
				if it.Badge != "Suppressed" || it.Rule != "review-request" || !strings.Contains(it.Why, "frequency_cap") {
					t.Errorf("suppressed action: %+v", it)
				}
			case "cancelled":
				cancelled++
				if it.Badge != "Cancelled" || !strings.Contains(it.Why, "Reason") {
					t.Errorf("cancelled action: %+v", it)
				}
			case "scheduled":
				scheduled++
				// The test runs without dispatch: the console says so.
				if it.Badge != "Scheduled" || !strings.Contains(it.Why, "Waiting") || !strings.Contains(it.Why, "dispatch is off") {
					t.Errorf("scheduled action: %+v", it)
				}
			}
		}
		for _, typ := range []string{"consent.granted", "order.placed", "order.paid", "shipment.shipped", "shipment.delivered", "return.requested", "return.received", "action.review_request", "action.promo_code"} {
			if seen[typ] == 0 {
				t.Errorf("timeline lacks %s: %v", typ, seen)
			}
		}
		if suppressed < 1 || cancelled < 1 || scheduled < 1 {
			t.Errorf("statuses: %d suppressed, %d cancelled, %d scheduled", suppressed, cancelled, scheduled)
		}
		// Orders go by the number the shop shows, not its internal id.
		if text := consoleEval[string](t, b, `[...document.querySelectorAll('#timeline-list > li[data-type="order.placed"] .meta')].map((m) => m.textContent).join(' | ')`); !strings.Contains(text, "Order N-o-1") || !strings.Contains(text, "Order N-o-2") {
			t.Errorf("the timeline does not name orders by their number:\n%s", text)
		}
		b.screenshot(t, artifacts, "console-1280.png")
	})

	step("Filters", func(t *testing.T) {
		kinds := func() []string {
			var ks []string
			for _, it := range consoleEval[[]consoleItem](t, b, consoleItemsJS) {
				ks = append(ks, it.Kind+":"+it.Type)
			}
			return ks
		}
		b.do(t, "show actions only", chromedp.Click(chromedp.CSS(`label[for="kind-actions"]`)))
		b.wait(t, "actions only", `document.getElementById('timeline-list').getAttribute('aria-busy') === 'false' && document.getElementById('timeline-count').textContent.includes('filtered') && [...document.querySelectorAll('#timeline-list > li')].every((li) => li.classList.contains('action'))`)
		if n := len(kinds()); n != 8 {
			t.Errorf("actions: %d entries on the first page, want 8", n)
		}
		b.do(t, "show events only", chromedp.Click(chromedp.CSS(`label[for="kind-events"]`)))
		b.wait(t, "events only", `document.getElementById('timeline-list').getAttribute('aria-busy') === 'false' && document.querySelectorAll('#timeline-list > li').length > 0 && [...document.querySelectorAll('#timeline-list > li')].every((li) => li.classList.contains('event'))`)
		b.do(t, "choose order.placed", chromedp.Click(chromedp.CSS(`#types summary`)),
			chromedp.Click(chromedp.CSS(`#types-events input[value="order.placed"]`)))
		b.wait(t, "orders placed", timelineSettled(2)+` && [...document.querySelectorAll('#timeline-list > li')].every((li) => li.dataset.type === 'order.placed')`)
		if got := kinds(); !slices.Equal(got, []string{"event:order.placed", "event:order.placed"}) {
			t.Errorf("order.placed filter shows %v", got)
		}
		b.do(t, "back to everything", chromedp.Click(chromedp.ID("types-clear")), chromedp.Click(chromedp.CSS(`label[for="kind-all"]`)))
		b.wait(t, "all entries again", timelineSettled(8)+` && !document.getElementById('timeline-count').textContent.includes('filtered')`)
	})

	step("Keyboard", func(t *testing.T) {
		b.do(t, "press /", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`), chromedp.KeyEvent("/"))
		if !consoleEval[bool](t, b, `document.activeElement.id === 'q'`) {
			t.Error("/ does not focus the search field")
		}
		// Enter in the search field searches; an unknown customer says so.
		b.do(t, "search nobody", chromedp.Evaluate[chromedp.Void](`document.getElementById("q").value = ""`), chromedp.SendKeys(chromedp.ID("q"), "nobody@example.org\n"))
		b.wait(t, "no customer found", `!document.getElementById('results').hidden && document.getElementById('results').textContent.includes('No customer in shop "acme" matches')`)
		if !consoleEval[bool](t, b, `document.activeElement.id === 'results-title'`) {
			t.Error("the result heading does not get the focus")
		}
		// Back (a same-document history entry) returns to the customer.
		b.do(t, "go back", chromedp.Evaluate[chromedp.Void](`history.back()`))
		b.wait(t, "the customer again", `(document.getElementById('profile-title') || {}).textContent === 'Carla' && !document.getElementById('customer').hidden`)
	})

	step("Phone", func(t *testing.T) {
		// Reloading the deep link at phone width keeps the session and the customer.
		if href := consoleEval[string](t, b, `location.href`); !strings.Contains(href, "#/acme/customers/") {
			t.Fatalf("location %s is not the customer's", href)
		}
		b.do(t, "reload at 375 px", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile), chromedp.Reload())
		b.wait(t, "the profile at 375 px", `(document.getElementById('profile-title') || {}).textContent === 'Carla'`+` && `+timelineSettled(8))
		layout := consoleEval[map[string]float64](t, b, `(() => {
			const p = document.getElementById('profile').getBoundingClientRect(), tl = document.getElementById('timeline').getBoundingClientRect();
			return { scroll: document.documentElement.scrollWidth, pl: p.left, tl: tl.left, ptop: p.bottom, ttop: tl.top, tw: tl.width };
		})()`)
		if layout["scroll"] > 375 {
			t.Errorf("the page is %v px wide at 375 px", layout["scroll"])
		}
		if layout["pl"] != layout["tl"] || layout["ttop"] < layout["ptop"] || layout["tw"] < 300 {
			t.Errorf("not one column at 375 px: %v", layout)
		}
		b.screenshot(t, artifacts, "console-375.png")
	})

	step("SignOut", func(t *testing.T) {
		b.do(t, "sign out", chromedp.Click(chromedp.ID("sign-out")))
		b.wait(t, "the sign-in form", `!document.getElementById('signin').hidden && sessionStorage.getItem('treue.console.token') === null`)
	})
}
