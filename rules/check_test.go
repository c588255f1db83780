package rules

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParse_Diagnostics pins the exact FILE:LINE:COL of every error kind the
// checker reports. Each file under testdata/check holds several mistakes;
// all of them must be reported in one run.
func TestParse_Diagnostics(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"unknown_field.yaml", []string{
			`3:3: unknown field "quiethours" (did you mean "quiet_hours"?)`,
			`6:5: unknown field "trigger" (known: action, cancel, description, disabled, for_each, frequency_cap, holdout, id, if, kind, limit, on, priority, quiet_hours, require_consent, when, while_unhappy)`,
			`11:7: unknown field "parms" (did you mean "params"?)`,
		}},
		{"bad_expression.yaml", []string{
			`4:18: if: type customer has no field order_cnt`,
			`9:29: if: unexpected end of expression`,
			`16:29: if: invalid operation: > (mismatched types time.Duration and string)`,
			`21:9: if: item is only set in rules with for_each`,
			`28:25: if: unknown name new`,
		}},
		{"unknown_event.yaml", []string{
			`3:22: unknown event type "order.payed" (did you mean "order.placed"?)`,
			`10:9: unknown cancel condition "same_sku_reordered" (did you mean "same_sku_ordered"?)`,
			`11:13: unknown event type "order.canceled" (did you mean "order.cancelled"?)`,
		}},
		{"unknown_action.yaml", []string{
			`6:13: unknown action type "send_sms" (known: notify, points_award, points_revoke, promo_code, reorder_reminder, review_request, sample_gift, tag_customer)`,
		}},
		{"bad_duration.yaml", []string{
			`2:21: bad duration "2 days": use a number of days like "14d", or a Go duration like "48h"`,
			`3:35: frequency_cap window must be longer than zero`,
			`8:19: negative duration "-3d"`,
			`14:53: bad duration "5x": use a number of days like "14d", or a Go duration like "48h"`,
			`19:26: inactive_for must be longer than zero`,
		}},
		{"duplicate_id.yaml", []string{
			`6:9: duplicate rule id "welcome" (first defined at line 2)`,
		}},
		{"yaml_syntax.yaml", []string{
			`4:4: YAML: did not find expected '-' indicator`,
		}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".yaml"), func(t *testing.T) {
			path := filepath.Join("testdata", "check", tt.file)
			s, err := Load(path)
			if s != nil {
				t.Fatal("a broken file must not yield a set")
			}
			var diags Diagnostics
			if !errors.As(err, &diags) {
				t.Fatalf("err = %v, want Diagnostics", err)
			}
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = path + ":" + w
			}
			got := make([]string, len(diags))
			for i, d := range diags {
				got[i] = d.String()
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if err.Error() != strings.Join(want, "\n") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

// TestParse_Semantics covers the checks on combinations, inline.
func TestParse_Semantics(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"ErrBadCost", "catalog:\n  S-1: {name: sample, cost: \"80 cents\"}\n",
			`x.yaml:2:29: cost must be an amount such as "0.80", got "80 cents"`},
		{"ErrBadPointValue", "points:\n  value: \"1 ct\"\n",
			`x.yaml:2:10: points value must be an amount such as "0.01" (what a point costs you), got "1 ct"`},
		{"ErrNoKind", "rules:\n  - id: a\n    on: order.paid\n    action: {type: notify}\n",
			`x.yaml:2:5: rule "a" needs kind: marketing (consent, frequency cap and holdout apply) or service`},
		{"ErrNoAction", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n",
			`x.yaml:2:5: rule "a" needs an action`},
		{"ErrNoTrigger", "rules:\n  - id: a\n    kind: service\n    action: {type: notify}\n",
			`x.yaml:2:5: rule "a" needs on: the event type(s) that trigger it, or daily_scan`},
		{"ErrBadID", "rules:\n  - id: Welcome Mail\n    on: order.paid\n    kind: service\n    action: {type: notify}\n",
			`x.yaml:2:9: rule id "Welcome Mail" must be 1-64 characters of a-z, 0-9, '_', '-', '.', starting with a letter or digit`},
		{"ErrBirthdayWithoutScan", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    when: {at_birthday: \"09:00\"}\n    action: {type: notify}\n",
			`x.yaml:5:25: at_birthday needs on: daily_scan`},
		{"ErrBadClock", "rules:\n  - id: a\n    on: daily_scan\n    kind: service\n    when: {at_birthday: \"9 am\"}\n    action: {type: notify}\n",
			`x.yaml:5:25: bad time of day "9 am": use HH:MM, e.g. "08:00"`},
		{"ErrTwoSchedules", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    when: {after: 1d, after_days: \"3\"}\n    action: {type: notify}\n",
			`x.yaml:5:11: when takes one of immediately, after, after_days, at_birthday, inactive_for; got 2`},
		{"ErrScanWithEvent", "rules:\n  - id: a\n    on: [daily_scan, order.paid]\n    kind: service\n    action: {type: notify}\n",
			`x.yaml:3:10: daily_scan cannot be combined with event types in one rule`},
		{"ErrOncePerItemWithoutForEach", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    limit: {once_per: item}\n    action: {type: notify}\n",
			`x.yaml:5:23: once_per item needs for_each`},
		{"ErrPointsWithoutAmount", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    action: {type: points_award}\n",
			`x.yaml:5:13: points_award needs parameter points in params or compute`},
		{"ErrSampleWithoutSKU", "rules:\n  - id: a\n    on: order.paid\n    kind: marketing\n    action: {type: sample_gift}\n",
			`x.yaml:5:20: sample_gift needs action.sku: the sample to add to the next parcel`},
		{"ErrPendingOutsideCancel", "rules:\n  - id: a\n    on: order.paid\n    if: pending.sku == \"x\"\n    kind: service\n    action: {type: notify}\n",
			`x.yaml:4:9: if: pending is only set in cancel conditions`},
		{"ErrWrongType", "rules:\n  - id: a\n    on: order.paid\n    priority: high\n    kind: service\n    action: {type: notify}\n",
			`x.yaml:4:15: expected a whole number, got "high"`},
		{"ErrTimezone", "defaults:\n  timezone: Europe/Berlln\n",
			`x.yaml:2:13: unknown time zone "Europe/Berlln" (use an IANA name such as Europe/Berlin)`},
		{"ErrHoldout", "defaults:\n  holdout_percent: 120\n",
			`x.yaml:2:20: holdout_percent must be between 0 and 100, got 120`},
		{"ErrCapNone", "defaults:\n  frequency_cap: never\n",
			`x.yaml:2:18: frequency_cap: expected "none" or {max: N, window: DURATION}, got "never"`},
		{"ErrTiersOrder", "points:\n  tiers:\n    - {name: gold, min: 1500}\n    - {name: silver, min: 500}\n",
			`x.yaml:4:27: tiers must be listed by ascending min`},
		{"ErrDuplicateKey", "defaults:\n  currency: EUR\n  currency: USD\n",
			`x.yaml:3:3: field "currency" given twice`},
		{"ErrPlainMultiLineExpr", "rules:\n  - id: a\n    on: order.paid\n    if: order.total > 50 &&\n      customer.stage == new\n    kind: service\n    action: {type: notify}\n",
			`x.yaml:5:25: if: unknown name new`},
		{"ErrAfterDaysType", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    when: {after_days: '\"soon\"'}\n    action: {type: notify}\n",
			`x.yaml:5:24: after_days: expected float64, but got string`},
		// The notify connector would refuse to sign with these.
		{"ErrNotifySecretEmpty", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    action: {type: notify, params: {secret: whsec_}}\n",
			`x.yaml:5:13: params.secret is empty; a Standard Webhooks secret is whsec_ followed by base64 of 24–64 random bytes; generate one with: echo whsec_$(head -c 32 /dev/urandom | base64)`},
		{"ErrNotifySecretShort", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    action: {type: notify, params: {secret: c2hvcnQ=}}\n",
			`x.yaml:5:13: params.secret decodes to 5 bytes, not 24 to 64; a Standard Webhooks secret is whsec_ followed by base64 of 24–64 random bytes; generate one with: echo whsec_$(head -c 32 /dev/urandom | base64)`},
		{"ErrNotifySecretNotString", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    action: {type: notify, params: {secret: 12345}}\n",
			`x.yaml:5:13: params.secret must be a string; a Standard Webhooks secret is whsec_ followed by base64 of 24–64 random bytes; generate one with: echo whsec_$(head -c 32 /dev/urandom | base64)`},
		// The notify connector calls params.url: what no dispatch setting allows is refused here.
		{"ErrNotifyURLMetadata", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    action: {type: notify, params: {url: \"http://169.254.169.254/latest/meta-data/\"}}\n",
			`x.yaml:5:13: params.url: 169.254.169.254 is a cloud metadata endpoint: destination not allowed`},
		{"ErrNotifyURLCredentials", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    action: {type: notify, params: {url: \"https://u:pw@esp.example/hook\"}}\n",
			`x.yaml:5:13: params.url: https://esp.example/hook: credentials in the URL (user:password@) are not allowed`},
		{"ErrNotifyURLDecimal", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    action: {type: notify, params: {url: \"http://2130706433/\"}}\n",
			`x.yaml:5:13: params.url: 2130706433 is not an IP address in canonical form (write IPv4 as four decimal numbers, a.b.c.d, without leading zeros): destination not allowed`},
		{"ErrNotifyURLNotString", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    action: {type: notify, params: {url: 42}}\n",
			`x.yaml:5:13: params.url must be a string: an http(s) URL`},
		{"ErrCustomCancelExpr", "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    cancel:\n      - {on: order.placed, if: pending.skew == order.id}\n    action: {type: notify}\n",
			`x.yaml:6:40: cancel if: type pending has no field skew`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("want an error")
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err.Error(), tt.want)
			}
		})
	}
}

func TestParse_OK(t *testing.T) {
	t.Run("Example", func(t *testing.T) {
		s := mustLoad(t, examplePath)
		if len(s.Rules) < 12 {
			t.Fatalf("example has %d rules", len(s.Rules))
		}
		if len(s.Version) != 12 {
			t.Errorf("Version = %q, want 12 hex digits", s.Version)
		}
		if s.Location().String() != "Europe/Berlin" {
			t.Errorf("Location = %v", s.Location())
		}
		if got := s.Tier(499); got != "bronze" {
			t.Errorf("Tier(499) = %q", got)
		}
		if got := s.Tier(1500); got != "gold" {
			t.Errorf("Tier(1500) = %q", got)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		s, err := Parse("empty.yaml", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Rules) != 0 || s.Defaults.Timezone != "UTC" || !s.Defaults.RequireConsent {
			t.Errorf("defaults: %+v", s.Defaults)
		}
	})
	t.Run("NotifySecret", func(t *testing.T) {
		// With or without the whsec_ prefix, as the notifier decodes it.
		for _, secret := range []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
			src := "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    action: {type: notify, params: {secret: " + secret + "}}\n"
			if _, err := Parse("x.yaml", []byte(src)); err != nil {
				t.Errorf("secret %s: %v", secret, err)
			}
		}
	})
	t.Run("VersionIsContentHash", func(t *testing.T) {
		a, _ := Parse("a.yaml", []byte("rules: []\n"))
		b, _ := Parse("b.yaml", []byte("rules: []\n"))
		c, _ := Parse("a.yaml", []byte("rules: [] # changed\n"))
		if a.Version != b.Version || a.Version == c.Version {
			t.Errorf("versions %s %s %s", a.Version, b.Version, c.Version)
		}
	})
	t.Run("Overrides", func(t *testing.T) {
		src := `defaults:
  frequency_cap: {max: 2, window: 7d}
  quiet_hours: {start: "21:00", end: "08:00"}
rules:
  - id: m
    on: order.paid
    kind: marketing
    frequency_cap: none
    quiet_hours: {start: "20:00", end: "09:00"}
    require_consent: false
    holdout: false
    action: {type: notify}
  - id: s
    on: order.paid
    kind: service
    action: {type: notify}
`
		s, err := Parse("o.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		m, sv := s.Rule("m"), s.Rule("s")
		if m.FrequencyCap.Max != 0 || m.QuietHours.String() != "20:00-09:00" || m.RequireConsent || m.Holdout {
			t.Errorf("marketing overrides: %+v", m)
		}
		if sv.FrequencyCap.Max != 0 || sv.QuietHours.String() != "21:00-08:00" || sv.RequireConsent || sv.Holdout {
			t.Errorf("service defaults: %+v", sv)
		}
	})
}

func TestSet_Summary(t *testing.T) {
	s := mustLoad(t, examplePath)
	var got RuleSummary
	for _, rs := range s.Summary() {
		if rs.ID == "reorder-reminder" {
			got = rs
		}
	}
	want := RuleSummary{
		ID: "reorder-reminder", Description: got.Description, Line: got.Line, Enabled: true,
		Triggers: []string{"order.paid"}, Kind: KindMarketing, Action: "reorder_reminder", Priority: 10,
		Schedule: "after computed days minus 5d", Limit: "once per item",
		Cancel:     []string{"same_sku_ordered", "order_returned", "order_cancelled"},
		Guardrails: []string{"consent", "frequency_cap 2/7d", "quiet_hours 21:00-08:00", "holdout", "unhappy_customer"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

// TestParse_NotifyURLPrivate: a params.url on a private network is left to
// the dispatch config (dispatch.allow_private, dispatch.allow_hosts).
func TestParse_NotifyURLPrivate(t *testing.T) {
	for _, u := range []string{"http://10.0.0.5/hook", "http://127.0.0.1:9000/hook", "https://esp.example/hook"} {
		y := "rules:\n  - id: a\n    on: order.paid\n    kind: service\n    action: {type: notify, params: {url: \"" + u + "\"}}\n"
		if _, err := Parse("x.yaml", []byte(y)); err != nil {
			t.Errorf("params.url %s: %v", u, err)
		}
	}
}
