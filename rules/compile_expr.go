package rules

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// Compiling expressions, and mapping their errors back into the file.

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

// identVisitor reports identifiers to fn and folds days(N) and hours(N)
// with a constant N into a constant duration, so that conditions such as
// "x < days(1)" cost no function call per evaluation.
type identVisitor struct{ fn func(*ast.IdentifierNode) }

func (v *identVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		v.fn(n)
	case *ast.CallNode:
		callee, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || len(n.Arguments) != 1 || (callee.Value != "days" && callee.Value != "hours") {
			return
		}
		unit := time.Hour
		if callee.Value == "days" {
			unit = 24 * time.Hour
		}
		var d time.Duration
		switch a := n.Arguments[0].(type) {
		case *ast.IntegerNode:
			d = time.Duration(a.Value) * unit
		case *ast.FloatNode:
			d = time.Duration(a.Value * float64(unit))
		default:
			return
		}
		ast.Patch(node, &ast.ConstantNode{Value: d})
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
