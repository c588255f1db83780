package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
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
	c.opts = c.exprOptions()
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
		prod := Product{SKU: sku, Name: p.Name, Category: p.Category, SampleSKU: p.SampleSKU.Value}
		if d := p.ConsumptionDays; d != nil {
			if d.Value < 0 {
				c.errorf(d.Pos, "consumption_days must not be negative, got %v", d.Value)
			}
			prod.ConsumptionDays = d.Value
		}
		c.set.Catalog[sku] = prod
	}
}

// Named cancel conditions.
var namedCancels = map[string]string{
	"same_sku_ordered": "the customer ordered the action's SKU again (another order)",
	"any_order":        "the customer placed another order",
	"order_returned":   "the action's order (or its SKU) was returned or refunded",
	"order_cancelled":  "the action's order was cancelled",
	"complaint":        "the customer opened a complaint",
}

var forEachSources = []string{"order.items", "event.items"}

func (c *compiler) rule(rs *ruleSpec, index int) *Rule {
	r := &Rule{ID: rs.ID.Value, Description: rs.Description, Line: rs.Line, Index: index,
		Disabled: rs.Disabled, Priority: rs.Priority}
	switch {
	case rs.ID.Value == "":
		c.errorf(rs.Pos, "rule needs an id")
	case !ruleIDRE.MatchString(rs.ID.Value):
		c.errorf(rs.ID.Pos, "rule id %q must be 1-64 characters of a-z, 0-9, '_', '-', '.', starting with a letter or digit", rs.ID.Value)
	}

	// Triggers.
	if len(rs.On) == 0 {
		c.errorf(rs.Pos, "rule %q needs on: the event type(s) that trigger it, or daily_scan", r.ID)
	}
	for _, on := range rs.On {
		switch {
		case on.Value == DailyScan:
			r.Scan = true
		case models.EventType(on.Value).Valid():
			r.Triggers = append(r.Triggers, models.EventType(on.Value))
		default:
			c.errorf(on.Pos, "unknown event type %q%s", on.Value, closest(on.Value, eventTypeNames()))
		}
	}
	if r.Scan && len(r.Triggers) > 0 {
		c.errorf(rs.On[0].Pos, "daily_scan cannot be combined with event types in one rule")
	}

	// Kind and guardrails.
	switch Kind(rs.Kind.Value) {
	case KindMarketing, KindService:
		r.Kind = Kind(rs.Kind.Value)
	case "":
		c.errorf(rs.Pos, "rule %q needs kind: marketing (consent, frequency cap and holdout apply) or service", r.ID)
	default:
		c.errorf(rs.Kind.Pos, "unknown kind %q: use marketing or service", rs.Kind.Value)
	}
	d := c.set.Defaults
	if r.Kind == KindMarketing {
		r.RequireConsent, r.FrequencyCap, r.Holdout = d.RequireConsent, d.FrequencyCap, true
	}
	if rs.RequireConsent != nil {
		r.RequireConsent = *rs.RequireConsent
	}
	r.FrequencyCap = c.cap(rs.FrequencyCap, r.FrequencyCap)
	r.QuietHours = c.quiet(rs.QuietHours, d.QuietHours)
	if rs.Holdout != nil {
		r.Holdout = *rs.Holdout
	}

	// Fan-out.
	if v := rs.ForEach.Value; v != "" {
		if !contains(forEachSources, v) {
			c.errorf(rs.ForEach.Pos, "for_each must be one of %s, got %q", strings.Join(forEachSources, ", "), v)
		}
		r.ForEach = v
	}

	scope := exprScope{item: r.ForEach != ""}
	r.cond = c.expr(&rs.If, "if", expr.AsBool(), scope)
	c.schedule(rs, r, scope)
	c.limit(rs, r, scope)
	c.action(rs, r, scope)
	c.cancels(rs, r, scope)
	return r
}

func (c *compiler) schedule(rs *ruleSpec, r *Rule, scope exprScope) {
	r.Schedule.Kind = Immediately
	w := rs.When
	if w == nil {
		return
	}
	var kinds []ScheduleKind
	if w.Immediately {
		kinds = append(kinds, Immediately)
	}
	if w.After.Set || w.After.Line > 0 {
		kinds = append(kinds, After)
		if w.After.Set && w.After.D == 0 {
			c.errorf(w.After.Pos, "after must be longer than zero (use when: immediately)")
		}
		r.Schedule.After = w.After.D
	}
	if w.AfterDays.set() {
		kinds = append(kinds, AfterDays)
		r.afterDays = c.expr(&w.AfterDays, "after_days", expr.AsFloat64(), scope)
	}
	if w.Lead.Set || w.Lead.Line > 0 {
		if !w.AfterDays.set() {
			c.errorf(w.Lead.Pos, "lead only goes with after_days")
		}
		r.Schedule.Lead = w.Lead.D
	}
	if w.AtBirthday.Set || w.AtBirthday.Line > 0 {
		kinds = append(kinds, AtBirthday)
		r.Schedule.At = int(w.AtBirthday.C)
		if !r.Scan {
			c.errorf(w.AtBirthday.Pos, "at_birthday needs on: daily_scan")
		}
	}
	if w.InactiveFor.Set || w.InactiveFor.Line > 0 {
		kinds = append(kinds, Inactivity)
		if w.InactiveFor.Set && w.InactiveFor.D == 0 {
			c.errorf(w.InactiveFor.Pos, "inactive_for must be longer than zero")
		}
		r.Schedule.InactiveFor = w.InactiveFor.D
		if !r.Scan {
			c.errorf(w.InactiveFor.Pos, "inactive_for needs on: daily_scan")
		}
	}
	switch len(kinds) {
	case 0:
		c.errorf(w.Pos, "when needs one of immediately, after, after_days, at_birthday, inactive_for")
	case 1:
		r.Schedule.Kind = kinds[0]
	default:
		c.errorf(w.Pos, "when takes one of immediately, after, after_days, at_birthday, inactive_for; got %d", len(kinds))
	}
}

func (c *compiler) limit(rs *ruleSpec, r *Rule, scope exprScope) {
	r.Limit.OncePer = PerEvent
	if r.Scan {
		r.Limit.OncePer = PerCustomer
	}
	l := rs.Limit
	if l == nil {
		return
	}
	if v := l.OncePer.Value; v != "" {
		switch s := Scope(v); s {
		case PerCustomer, PerOrder, PerItem, PerSKU, PerEvent:
			r.Limit.OncePer = s
		default:
			c.errorf(l.OncePer.Pos, "once_per must be one of customer, order, item, sku, event; got %q", v)
		}
		switch {
		case r.Scan && (r.Limit.OncePer == PerOrder || r.Limit.OncePer == PerItem || r.Limit.OncePer == PerEvent):
			c.errorf(l.OncePer.Pos, "once_per %s needs an event; daily_scan rules count per customer or sku", v)
		case r.Limit.OncePer == PerItem && r.ForEach == "":
			c.errorf(l.OncePer.Pos, "once_per item needs for_each")
		case r.Limit.OncePer == PerSKU && r.ForEach == "" && (rs.Action == nil || !rs.Action.SKU.set()):
			c.errorf(l.OncePer.Pos, "once_per sku needs for_each or action.sku")
		}
	}
	if l.Period.Set || l.Period.Line > 0 {
		if l.Period.Set && l.Period.D == 0 {
			c.errorf(l.Period.Pos, "period must be longer than zero")
		}
		r.Limit.Period = l.Period.D
	}
	if l.By.set() {
		r.limitBy = c.expr(&l.By, "by", expr.AsAny(), scope)
		r.Limit.By = true
	}
}

// requiredParams names parameters an action type cannot do without.
var requiredParams = map[models.ActionType][][]string{
	models.ActionPointsAward:  {{"points"}},
	models.ActionPointsRevoke: {{"points"}},
	models.ActionTagCustomer:  {{"tag"}},
	models.ActionPromoCode:    {{"percent", "amount"}},
}

func (c *compiler) action(rs *ruleSpec, r *Rule, scope exprScope) {
	a := rs.Action
	if a == nil {
		c.errorf(rs.Pos, "rule %q needs an action", r.ID)
		return
	}
	r.Action = models.ActionType(a.Type.Value)
	switch {
	case a.Type.Value == "":
		c.errorf(a.Pos, "action needs a type: %s", strings.Join(actionTypeNames(), ", "))
	case !r.Action.Valid():
		c.errorf(a.Type.Pos, "unknown action type %q%s", a.Type.Value, closest(a.Type.Value, actionTypeNames()))
	}
	if a.SKU.set() {
		r.sku = c.expr(&a.SKU, "sku", expr.AsKind(reflect.String), scope)
	}
	switch r.Action {
	case models.ActionReorderReminder:
		if r.ForEach == "" && !a.SKU.set() {
			c.errorf(a.Type.Pos, "reorder_reminder needs for_each or action.sku: which product to remind of")
		}
	case models.ActionSampleGift:
		if !a.SKU.set() {
			c.errorf(a.Type.Pos, "sample_gift needs action.sku: the sample to add to the next parcel")
		}
	}
	r.params = a.Params
	names := make([]string, 0, len(a.Compute))
	for name := range a.Compute {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, dup := a.Params[name]; dup {
			src := a.Compute[name]
			c.errorf(src.Pos, "parameter %q is both in params and compute", name)
		}
		src := a.Compute[name]
		r.compute = append(r.compute, computed{name: name, prog: c.expr(&src, "compute."+name, expr.AsAny(), scope)})
	}
	for _, alts := range requiredParams[r.Action] {
		found := false
		for _, p := range alts {
			_, inParams := a.Params[p]
			_, inCompute := a.Compute[p]
			found = found || inParams || inCompute
		}
		if !found {
			c.errorf(a.Pos, "%s needs parameter %s in params or compute", r.Action, strings.Join(alts, " or "))
		}
	}
}

type cancelCond struct {
	name     string
	reason   string
	named    string
	triggers []models.EventType
	cond     *vm.Program
}

func (c *compiler) cancels(rs *ruleSpec, r *Rule, scope exprScope) {
	scope.pending, scope.item = true, false
	for i := range rs.Cancel {
		cs := &rs.Cancel[i]
		if cs.Named.Value != "" {
			if _, ok := namedCancels[cs.Named.Value]; !ok {
				names := make([]string, 0, len(namedCancels))
				for n := range namedCancels {
					names = append(names, n)
				}
				sort.Strings(names)
				c.errorf(cs.Named.Pos, "unknown cancel condition %q%s", cs.Named.Value, closest(cs.Named.Value, names))
				continue
			}
			r.cancels = append(r.cancels, cancelCond{name: cs.Named.Value, named: cs.Named.Value, reason: cs.Named.Value})
			continue
		}
		cc := cancelCond{name: "custom", reason: cs.Reason}
		if cc.reason == "" {
			cc.reason = "cancel condition (line " + itoa(cs.Line) + ")"
		}
		if len(cs.On) == 0 {
			c.errorf(cs.Pos, "cancel condition needs on: the event type(s) that cancel")
		}
		for _, on := range cs.On {
			if !models.EventType(on.Value).Valid() {
				c.errorf(on.Pos, "unknown event type %q%s", on.Value, closest(on.Value, eventTypeNames()))
				continue
			}
			cc.triggers = append(cc.triggers, models.EventType(on.Value))
		}
		cc.cond = c.expr(&cs.If, "cancel if", expr.AsBool(), scope)
		r.cancels = append(r.cancels, cc)
	}
}

// exprScope says which optional variables an expression may use.
type exprScope struct {
	item    bool // the rule fans out per line
	pending bool // a cancel condition
}

// expr compiles one expression, reporting errors at their place in the file.
func (c *compiler) expr(src *exprSrc, what string, result expr.Option, scope exprScope) *vm.Program {
	if !src.set() {
		return nil
	}
	var misuse []ast.Node
	check := &identVisitor{fn: func(n *ast.IdentifierNode) {
		if (n.Value == "item" && !scope.item) || (n.Value == "pending" && !scope.pending) {
			misuse = append(misuse, n)
		}
	}}
	opts := append(append([]expr.Option{}, c.opts...), result, expr.Patch(check))
	prog, err := expr.Compile(src.Src, opts...)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			c.errorf(c.exprPos(src, fe.From), "%s: %s", what, exprMessage(fe.Message))
		} else {
			c.errorf(src.Pos, "%s: %s", what, err.Error())
		}
		return nil
	}
	for _, n := range misuse {
		id := n.(*ast.IdentifierNode)
		msg := "item is only set in rules with for_each"
		if id.Value == "pending" {
			msg = "pending is only set in cancel conditions"
		}
		c.errorf(c.exprPos(src, n.Location().From), "%s: %s", what, msg)
	}
	if len(misuse) > 0 {
		return nil
	}
	return prog
}

// exprMessage speaks the rules file's names rather than Go's.
var exprMessage = strings.NewReplacer(
	"*rules.EventEnv", "event", "rules.EventEnv", "event",
	"*rules.OrderEnv", "order", "rules.OrderEnv", "order",
	"*rules.ItemEnv", "item", "rules.ItemEnv", "item",
	"*rules.ShipmentEnv", "shipment", "rules.ShipmentEnv", "shipment",
	"*rules.CustomerEnv", "customer", "rules.CustomerEnv", "customer",
	"*rules.DefaultsEnv", "defaults", "rules.DefaultsEnv", "defaults",
	"*rules.PendingEnv", "pending", "rules.PendingEnv", "pending",
	"rules.Product", "catalog entry", "rules.Env", "the rules",
	"unexpected token EOF", "unexpected end of expression",
).Replace

type identVisitor struct{ fn func(*ast.IdentifierNode) }

func (v *identVisitor) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok {
		v.fn(id)
	}
}

// exprPos maps a rune offset inside an expression to the file. The scalar's
// text is laid out as segments (one per source line) joined by one character
// (a space when folded, a newline when literal), which is how YAML builds the
// value for everything but escapes in quoted strings.
func (c *compiler) exprPos(src *exprSrc, offset int) Pos {
	n := src.Node
	if c.lines == nil {
		c.lines = strings.Split(string(c.src), "\n")
	}
	line := func(i int) string { // 1-based
		if i-1 < len(c.lines) && i >= 1 {
			return strings.TrimRight(c.lines[i-1], "\r")
		}
		return ""
	}
	type seg struct {
		line, col int // col of the segment's first rune, 1-based
		text      string
	}
	var segs []seg
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		indent := -1
		for i := n.Line + 1; i <= len(c.lines); i++ {
			l := line(i)
			trimmed := strings.TrimLeft(l, " ")
			if trimmed == "" {
				segs = append(segs, seg{line: i, col: max(indent, 0) + 1})
				continue
			}
			ind := len(l) - len(trimmed)
			if indent < 0 {
				indent = ind
			}
			if ind < indent {
				break
			}
			segs = append(segs, seg{line: i, col: indent + 1, text: l[indent:]})
		}
	} else {
		first := line(n.Line)
		col := n.Column
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			col++
		}
		segs = append(segs, seg{line: n.Line, col: col, text: runeSuffix(first, col-1)})
		for i := n.Line + 1; i <= len(c.lines) && i <= n.Line+50; i++ {
			l := line(i)
			trimmed := strings.TrimLeft(l, " \t")
			segs = append(segs, seg{line: i, col: len(l) - len(trimmed) + 1, text: trimmed})
		}
	}
	rem := offset
	for _, s := range segs {
		if k := utf8.RuneCountInString(s.text); rem <= k {
			return Pos{Line: s.line, Col: s.col + rem}
		} else {
			rem -= k + 1
		}
	}
	return src.Pos
}

func runeSuffix(s string, runes int) string {
	for i := range s {
		if runes == 0 {
			return s[i:]
		}
		runes--
	}
	return ""
}

func (c *compiler) exprOptions() []expr.Option {
	s := c.set
	dur := func(unit time.Duration) func(params ...any) (any, error) {
		return func(params ...any) (any, error) {
			switch v := params[0].(type) {
			case int:
				return time.Duration(v) * unit, nil
			case int64:
				return time.Duration(v) * unit, nil
			case float64:
				return time.Duration(v * float64(unit)), nil
			}
			return nil, fmt.Errorf("expected a number, got %T", params[0])
		}
	}
	tier := func(params ...any) (any, error) {
		switch v := params[0].(type) {
		case int:
			return s.Tier(int64(v)), nil
		case int64:
			return s.Tier(v), nil
		case float64:
			return s.Tier(int64(v)), nil
		}
		return nil, fmt.Errorf("expected a number, got %T", params[0])
	}
	return []expr.Option{
		expr.Env(Env{}),
		expr.Function("days", dur(24*time.Hour), new(func(int) time.Duration), new(func(int64) time.Duration), new(func(float64) time.Duration)),
		expr.Function("hours", dur(time.Hour), new(func(int) time.Duration), new(func(int64) time.Duration), new(func(float64) time.Duration)),
		expr.Function("tier", tier, new(func(int) string), new(func(int64) string), new(func(float64) string)),
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
