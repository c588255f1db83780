package main

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/treue/treue/models"
	"github.com/treue/treue/webhooks/process"
)

// scrape reads a running instance's /metrics.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}

// metricSum adds up the series of name whose labels include every pair of want.
func metricSum(text, name string, want map[string]string) float64 {
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		have := map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			have[k], _ = strconv.Unquote(v)
		}
		match := true
		for k, v := range want {
			if have[k] != v {
				match = false
			}
		}
		if match {
			f, _ := strconv.ParseFloat(value, 64)
			sum += f
		}
	}
	return sum
}

// TestMetrics_RulesVerdicts: every action a journey delivered over HTTP made
// the rules store is counted once in treue_actions_planned_total, by rule,
// status and reason class, and a duplicate delivery counts nothing.
func TestMetrics_RulesVerdicts(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "rules:\n  file: "+exampleRules(t, t.TempDir())+"\n")
		in := e.serve(t)
		url := in.URL + "/webhooks/standard/acme"
		privacyJourney(t, url, "m")
		privacyJourney(t, url, "m") // the same deliveries again
		// A second customer without marketing consent: marketing is suppressed.
		for i, body := range []string{
			`{"type":"order.placed","timestamp":"2026-11-20T10:00:00Z","data":{"customer":{"id":"c-6"},"order":{"id":"o-10","placed_at":"2026-11-20T10:00:00Z","currency":"EUR","total":"29.90","items":[{"sku":"BEAN-ESP-1KG","category":"beans","quantity":1,"unit_price":"29.90"}]}}}`,
			`{"type":"order.paid","timestamp":"2026-11-20T10:05:00Z","data":{"customer":{"id":"c-6"},"order":{"id":"o-10"}}}`,
			`{"type":"shipment.delivered","timestamp":"2026-11-22T10:00:00Z","data":{"customer":{"id":"c-6"},"order":{"id":"o-10"},"shipment":{"id":"s","delivered_at":"2026-11-22T10:00:00Z"}}}`,
		} {
			if code, m := post(t, url, "m-noconsent-"+strconv.Itoa(i), body); code != 200 {
				t.Fatalf("%d %v", code, m)
			}
		}
		waitDrained(t, e)
		st := e.store(t)
		ctx := context.Background()
		shop, err := st.ShopByKey(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		acts, err := st.ListActions(ctx, shop.ID, "", 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		type series struct{ rule, status, reason string }
		stored := map[series]float64{}
		suppressed := 0
		for _, a := range acts {
			stored[series{a.RuleID, string(a.Status), process.ReasonClass(a.Reason)}]++
			if a.Status == models.ActionSuppressed {
				suppressed++
			}
		}
		if suppressed == 0 || len(stored) < 2 {
			t.Fatalf("the journeys stored %v: the test needs suppressed and scheduled actions", stored)
		}
		// The counters move just after the commit that drained the inbox.
		var text string
		waitFor(t, func() bool {
			text = scrape(t, in.URL)
			return metricSum(text, "treue_actions_planned_total", nil) >= float64(len(acts))
		})
		for s, n := range stored {
			got := metricSum(text, "treue_actions_planned_total", map[string]string{"shop": "acme", "rule": s.rule, "status": s.status, "reason": s.reason})
			if got != n {
				t.Errorf("treue_actions_planned_total{rule=%q,status=%q,reason=%q} = %v, stored %v", s.rule, s.status, s.reason, got, n)
			}
		}
		if all := metricSum(text, "treue_actions_planned_total", nil); all != float64(len(acts)) {
			t.Errorf("treue_actions_planned_total = %v in all, %d actions stored", all, len(acts))
		}
	})
}
