package rules

import (
	"reflect"
	"time"

	"gopkg.in/yaml.v3"
)

// This file is the YAML schema of a rules file, as written by a merchant.
// It is decoded strictly (see decode.go) and then compiled (compile.go).
// examples/rules.yaml documents every field.

type fileSpec struct {
	Defaults defaultsSpec            `yaml:"defaults"`
	Points   *pointsSpec             `yaml:"points"`
	Catalog  map[string]*productSpec `yaml:"catalog"`
	Rules    []*ruleSpec             `yaml:"rules"`

	Categories map[string]*categorySpec `yaml:"categories"`
	Budget     *budgetSpec              `yaml:"budget"`
}

type defaultsSpec struct {
	Pos
	Timezone        text        `yaml:"timezone"`
	Currency        text        `yaml:"currency"`
	HandlingPromise durationVal `yaml:"handling_promise"`
	RequireConsent  *bool       `yaml:"require_consent"`
	FrequencyCap    *capSpec    `yaml:"frequency_cap"`
	QuietHours      *quietSpec  `yaml:"quiet_hours"`
	HoldoutPercent  *numberVal  `yaml:"holdout_percent"`
	// Unhappy is the unhappy-customer gate (unhappy.go).
	Unhappy *unhappySpec `yaml:"unhappy"`
}

type pointsSpec struct {
	Pos
	PerCurrencyUnit *numberVal  `yaml:"per_currency_unit"`
	Value           text        `yaml:"value"`
	Tiers           []*tierSpec `yaml:"tiers"`
}

type tierSpec struct {
	Pos
	Name text      `yaml:"name"`
	Min  numberVal `yaml:"min"`
}

type productSpec struct {
	Pos
	Name            string     `yaml:"name"`
	Category        string     `yaml:"category"`
	ConsumptionDays *numberVal `yaml:"consumption_days"`
	SampleSKU       text       `yaml:"sample_sku"`
	Cost            text       `yaml:"cost"`

	Complements []text `yaml:"complements"`
}

type ruleSpec struct {
	Pos
	ID             text         `yaml:"id"`
	Description    string       `yaml:"description"`
	Disabled       bool         `yaml:"disabled"`
	On             []text       `yaml:"on"`
	If             exprSrc      `yaml:"if"`
	ForEach        text         `yaml:"for_each"`
	When           *whenSpec    `yaml:"when"`
	Cancel         []cancelSpec `yaml:"cancel"`
	Limit          *limitSpec   `yaml:"limit"`
	Priority       int          `yaml:"priority"`
	Kind           text         `yaml:"kind"`
	RequireConsent *bool        `yaml:"require_consent"`
	FrequencyCap   *capSpec     `yaml:"frequency_cap"`
	QuietHours     *quietSpec   `yaml:"quiet_hours"`
	Holdout        *bool        `yaml:"holdout"`
	Action         *actionSpec  `yaml:"action"`
	// WhileUnhappy overrides the unhappy-customer gate: allow or suppress.
	WhileUnhappy text `yaml:"while_unhappy"`
}

type whenSpec struct {
	Pos
	Immediately bool        `yaml:"immediately"`
	After       durationVal `yaml:"after"`
	AfterDays   exprSrc     `yaml:"after_days"`
	Lead        durationVal `yaml:"lead"`
	AtBirthday  clockVal    `yaml:"at_birthday"`
	InactiveFor durationVal `yaml:"inactive_for"`
}

// decodeNode accepts "when: immediately" as well as a mapping.
func (w *whenSpec) decodeNode(d *decoder, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		w.Pos = nodePos(n)
		if n.Value != "immediately" {
			d.errorf(nodePos(n), "when: expected \"immediately\" or a mapping with one of after, after_days, at_birthday, inactive_for; got %q", n.Value)
		}
		w.Immediately = true
		return
	}
	d.decodeStruct(n, reflect.ValueOf(w).Elem())
}

type cancelSpec struct {
	Pos
	Named  text    `yaml:"-"`
	On     []text  `yaml:"on"`
	If     exprSrc `yaml:"if"`
	Reason string  `yaml:"reason"`
}

// decodeNode accepts a named condition ("- same_sku_ordered") or a mapping.
func (c *cancelSpec) decodeNode(d *decoder, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		c.Pos = nodePos(n)
		c.Named = text{Value: n.Value, Pos: nodePos(n)}
		return
	}
	d.decodeStruct(n, reflect.ValueOf(c).Elem())
}

type limitSpec struct {
	Pos
	OncePer text        `yaml:"once_per"`
	Period  durationVal `yaml:"period"`
	By      exprSrc     `yaml:"by"`
}

type actionSpec struct {
	Pos
	Type    text               `yaml:"type"`
	SKU     exprSrc            `yaml:"sku"`
	Params  map[string]any     `yaml:"params"`
	Compute map[string]exprSrc `yaml:"compute"`
}

// capSpec is a frequency cap, or "none".
type capSpec struct {
	Pos
	None   bool        `yaml:"-"`
	Max    *numberVal  `yaml:"max"`
	Window durationVal `yaml:"window"`
}

func (c *capSpec) decodeNode(d *decoder, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		c.Pos = nodePos(n)
		if n.Value != "none" {
			d.errorf(nodePos(n), "frequency_cap: expected \"none\" or {max: N, window: DURATION}, got %q", n.Value)
		}
		c.None = true
		return
	}
	d.decodeStruct(n, reflect.ValueOf(c).Elem())
}

// quietSpec is a quiet-hours window, or "none".
type quietSpec struct {
	Pos
	None  bool     `yaml:"-"`
	Start clockVal `yaml:"start"`
	End   clockVal `yaml:"end"`
}

func (q *quietSpec) decodeNode(d *decoder, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		q.Pos = nodePos(n)
		if n.Value != "none" {
			d.errorf(nodePos(n), "quiet_hours: expected \"none\" or {start: \"HH:MM\", end: \"HH:MM\"}, got %q", n.Value)
		}
		q.None = true
		return
	}
	d.decodeStruct(n, reflect.ValueOf(q).Elem())
}

// text is a scalar string with its position.
type text struct {
	Value string
	Pos
}

func (t *text) decodeNode(d *decoder, n *yaml.Node) {
	t.Pos = nodePos(n)
	if n.Kind != yaml.ScalarNode {
		d.errorf(nodePos(n), "expected a text value, got %s", kindName(n))
		return
	}
	if n.Tag != "!!null" {
		t.Value = n.Value
	}
}

// numberVal is a number with its position.
type numberVal struct {
	Value float64
	Pos
}

func (v *numberVal) decodeNode(d *decoder, n *yaml.Node) {
	v.Pos = nodePos(n)
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		d.errorf(nodePos(n), "expected a number, got %s", kindName(n))
		return
	}
	if err := n.Decode(&v.Value); err != nil {
		d.errorf(nodePos(n), "expected a number, got %s", kindName(n))
	}
}

// durationVal is a duration such as "48h" or "14d", with its position.
type durationVal struct {
	D   time.Duration
	Set bool
	Pos
}

func (v *durationVal) decodeNode(d *decoder, n *yaml.Node) {
	v.Pos = nodePos(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(nodePos(n), "expected a duration such as \"14d\" or \"48h\", got %s", kindName(n))
		return
	}
	dur, err := parseDuration(n.Value)
	if err != nil {
		d.errorf(nodePos(n), "%s", err.Error())
		return
	}
	v.D, v.Set = dur, true
}

// clockVal is a time of day "HH:MM" with its position.
type clockVal struct {
	C   clock
	Set bool
	Pos
}

func (v *clockVal) decodeNode(d *decoder, n *yaml.Node) {
	v.Pos = nodePos(n)
	if n.Kind != yaml.ScalarNode {
		d.errorf(nodePos(n), "expected a time of day \"HH:MM\", got %s", kindName(n))
		return
	}
	c, err := parseClock(n.Value)
	if err != nil {
		d.errorf(nodePos(n), "%s", err.Error())
		return
	}
	v.C, v.Set = c, true
}

// exprSrc is an expression's source with the node it came from, so that
// compile errors can be mapped back to a line and column in the file.
type exprSrc struct {
	Src  string
	Node *yaml.Node
	Pos
}

func (e *exprSrc) decodeNode(d *decoder, n *yaml.Node) {
	e.Pos = nodePos(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(nodePos(n), "expected an expression, got %s", kindName(n))
		return
	}
	e.Src, e.Node = n.Value, n
}

func (e *exprSrc) set() bool { return e.Node != nil }
