package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"gopkg.in/yaml.v3"

	"github.com/treue/treue/models"
)

// Load reads and parses a rules file. Problems in the file come back as
// Diagnostics; a file that cannot be read as an *fs.PathError.
func Load(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes, validates and compiles a rules file. filename is used in
// diagnostics only. The error, if any, is Diagnostics with every problem found.
func Parse(filename string, data []byte) (*Set, error) {
	sum := sha256.Sum256(data)
	c := &compiler{
		sink: &diagSink{file: filename},
		src:  data,
		set:  &Set{Version: hex.EncodeToString(sum[:6]), File: filename, Catalog: map[string]Product{}},
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		c.sink.errorf(syntaxErrPos(data, err), "%s", yamlErrText(err))
		return nil, c.sink.diags
	}
	var spec fileSpec
	if n := resolve(&root); n != nil {
		(&decoder{c.sink}).decode(n, reflectValue(&spec))
	}
	c.compile(&spec)
	if len(c.sink.diags) > 0 {
		c.sink.diags.sort()
		return nil, c.sink.diags
	}
	c.set.index()
	return c.set, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: (line \d+: )?`)

func yamlErrText(err error) string {
	return "YAML: " + yamlLineRE.ReplaceAllString(err.Error(), "")
}

// syntaxErrPos finds where a YAML syntax error is. yaml.v3 names the line
// where the enclosing block starts (and not always that), so look for the
// shortest prefix of whole lines that fails with the same problem: a YAML
// document cut at a line end is otherwise valid, blocks just end early.
func syntaxErrPos(data []byte, err error) Pos {
	want := yamlErrText(err)
	lines := strings.SplitAfter(string(data), "\n")
	var prefix strings.Builder
	for i, l := range lines {
		prefix.WriteString(l)
		var n yaml.Node
		if e := yaml.Unmarshal([]byte(prefix.String()), &n); e != nil && yamlErrText(e) == want {
			return Pos{Line: i + 1, Col: len(l) - len(strings.TrimLeft(l, " \t")) + 1}
		}
	}
	return Pos{Line: 1, Col: 1}
}

type compiler struct {
	sink  *diagSink
	src   []byte
	lines []string
	set   *Set
	opts  []expr.Option
}

func (c *compiler) errorf(p Pos, format string, args ...any) { c.sink.errorf(p, format, args...) }

var ruleIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

func (c *compiler) compile(f *fileSpec) {
	c.defaults(&f.Defaults)
	c.points(f.Points)
	c.catalog(f.Catalog)
	c.complements(f)
	c.budget(f.Budget)
	c.opts = c.exprOptions()
	c.opts = append(c.opts, c.ownershipOption())
	seen := map[string]int{}
	for i, rs := range f.Rules {
		if rs == nil {
			continue
		}
		r := c.rule(rs, i)
		if r == nil {
			continue
		}
		if line, dup := seen[r.ID]; dup {
			c.errorf(rs.ID.Pos, "duplicate rule id %q (first defined at line %d)", r.ID, line)
			continue
		}
		seen[r.ID] = rs.ID.Line
		c.set.Rules = append(c.set.Rules, r)
	}
}

func (c *compiler) defaults(d *defaultsSpec) {
	s := c.set
	s.loc = time.UTC
	s.Defaults.Timezone = "UTC"
	if d.Timezone.Value != "" {
		loc, err := time.LoadLocation(d.Timezone.Value)
		if err != nil {
			c.errorf(d.Timezone.Pos, "unknown time zone %q (use an IANA name such as Europe/Berlin)", d.Timezone.Value)
		} else {
			s.loc, s.Defaults.Timezone = loc, d.Timezone.Value
		}
	}
	if v := d.Currency.Value; v != "" {
		if len(v) != 3 || strings.ToUpper(v) != v {
			c.errorf(d.Currency.Pos, "currency must be an ISO 4217 code such as EUR, got %q", v)
		}
		s.Defaults.Currency = v
	}
	s.Defaults.HandlingPromise = 48 * time.Hour
	if d.HandlingPromise.Set {
		if d.HandlingPromise.D == 0 {
			c.errorf(d.HandlingPromise.Pos, "handling_promise must be longer than zero")
		}
		s.Defaults.HandlingPromise = d.HandlingPromise.D
	}
	s.Defaults.RequireConsent = d.RequireConsent == nil || *d.RequireConsent
	s.Defaults.FrequencyCap = c.cap(d.FrequencyCap, Cap{})
	s.Defaults.QuietHours = c.quiet(d.QuietHours, QuietHours{})
	if h := d.HoldoutPercent; h != nil {
		if h.Value < 0 || h.Value > 100 {
			c.errorf(h.Pos, "holdout_percent must be between 0 and 100, got %v", h.Value)
		}
		s.Defaults.HoldoutPercent = h.Value
	}
	s.Defaults.Unhappy = c.unhappy(d.Unhappy)
	s.defaultsEnv = DefaultsEnv{HandlingPromise: s.Defaults.HandlingPromise, Currency: s.Defaults.Currency, Timezone: s.Defaults.Timezone}
}

func (c *compiler) cap(cs *capSpec, inherit Cap) Cap {
	switch {
	case cs == nil:
		return inherit
	case cs.None:
		return Cap{}
	}
	var out Cap
	if cs.Max == nil {
		c.errorf(cs.Pos, "frequency_cap needs max (or write frequency_cap: none)")
	} else if cs.Max.Value < 1 || cs.Max.Value != math.Trunc(cs.Max.Value) {
		c.errorf(cs.Max.Pos, "frequency_cap max must be a whole number of at least 1 (or write frequency_cap: none), got %v", cs.Max.Value)
	} else {
		out.Max = int(cs.Max.Value)
	}
	if !cs.Window.Set {
		if cs.Window.Line == 0 {
			c.errorf(cs.Pos, "frequency_cap needs window, e.g. window: 7d")
		}
	} else if cs.Window.D == 0 {
		c.errorf(cs.Window.Pos, "frequency_cap window must be longer than zero")
	}
	out.Window = cs.Window.D
	return out
}

func (c *compiler) quiet(qs *quietSpec, inherit QuietHours) QuietHours {
	switch {
	case qs == nil:
		return inherit
	case qs.None:
		return QuietHours{}
	}
	if !qs.Start.Set || !qs.End.Set {
		if qs.Start.Line == 0 || qs.End.Line == 0 {
			c.errorf(qs.Pos, "quiet_hours needs start and end, e.g. {start: \"21:00\", end: \"08:00\"}")
		}
		return QuietHours{}
	}
	if qs.Start.C == qs.End.C {
		c.errorf(qs.End.Pos, "quiet_hours end equals start (write quiet_hours: none for no quiet hours)")
	}
	return QuietHours{Start: int(qs.Start.C), End: int(qs.End.C)}
}

func (c *compiler) points(p *pointsSpec) {
	if p == nil {
		return
	}
	if v := p.PerCurrencyUnit; v != nil {
		if v.Value < 0 {
			c.errorf(v.Pos, "per_currency_unit must not be negative, got %v", v.Value)
		}
		c.set.Points.PerCurrencyUnit = v.Value
	}
	if v := p.Value; v.Value != "" {
		if cents, ok := models.Money(v.Value).Cents(); !ok || cents < 0 {
			c.errorf(v.Pos, "points value must be an amount such as \"0.01\" (what a point costs you), got %q", v.Value)
		}
		c.set.Points.Value = models.Money(v.Value)
	}
	names := map[string]bool{}
	for i, t := range p.Tiers {
		if t == nil {
			continue
		}
		if t.Name.Value == "" {
			c.errorf(t.Pos, "tier needs a name")
		} else if names[t.Name.Value] {
			c.errorf(t.Name.Pos, "duplicate tier %q", t.Name.Value)
		}
		names[t.Name.Value] = true
		if t.Min.Value < 0 || t.Min.Value != math.Trunc(t.Min.Value) {
			c.errorf(t.Min.Pos, "tier min must be a whole number of points, at least 0")
		}
		min := int64(t.Min.Value)
		if i > 0 && len(c.set.Points.Tiers) > 0 && min <= c.set.Points.Tiers[len(c.set.Points.Tiers)-1].Min {
			c.errorf(t.Min.Pos, "tiers must be listed by ascending min")
		}
		c.set.Points.Tiers = append(c.set.Points.Tiers, Tier{Name: t.Name.Value, Min: min})
	}
}

func (c *compiler) catalog(cat map[string]*productSpec) {
	for sku, p := range cat {
		if p == nil {
			c.set.Catalog[sku] = Product{SKU: sku}
			continue
		}
		prod := Product{SKU: sku, Name: p.Name, Category: p.Category, SampleSKU: p.SampleSKU.Value, Cost: models.Money(p.Cost.Value)}
		if v := p.Cost; v.Value != "" {
			if cents, ok := models.Money(v.Value).Cents(); !ok || cents < 0 {
				c.errorf(v.Pos, "cost must be an amount such as \"0.80\", got %q", v.Value)
			}
		}
		if d := p.ConsumptionDays; d != nil {
			if d.Value < 0 {
				c.errorf(d.Pos, "consumption_days must not be negative, got %v", d.Value)
			}
			prod.ConsumptionDays = d.Value
		}
		c.set.Catalog[sku] = prod
	}
}

func eventTypeNames() []string {
	out := []string{DailyScan}
	for _, t := range models.EventTypes {
		out = append(out, string(t))
	}
	return out
}

func actionTypeNames() []string {
	out := make([]string, len(models.ActionTypes))
	for i, t := range models.ActionTypes {
		out[i] = string(t)
	}
	return out
}

// closest suggests the nearest known name, or lists them all.
func closest(name string, known []string) string {
	fs := make([]fieldInfo, len(known))
	for i, k := range known {
		fs[i] = fieldInfo{name: k}
	}
	return suggest(name, fs)
}

func itoa(i int) string { return strconv.Itoa(i) }
