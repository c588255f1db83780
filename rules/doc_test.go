package rules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// rulesDoc is the merchant's reference for rules files.
const rulesDoc = "../docs/rules.md"

func readRulesDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(rulesDoc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// documented reports whether the document names s as code: `s`.
func documented(doc, s string) bool { return strings.Contains(doc, "`"+s+"`") }

// TestRulesDoc_Vocabulary: docs/rules.md names every field of a rules file,
// every expression variable and function, every trigger, action type, named
// cancel condition, required param, for_each source, kind and limit scope
// the engine knows. A name added to the schema, the expression environment
// or models without a line in the document fails here.
func TestRulesDoc_Vocabulary(t *testing.T) {
	doc := readRulesDoc(t)
	check := func(what string, names []string) {
		t.Helper()
		if len(names) == 0 {
			t.Errorf("%s: the engine lists none", what)
		}
		for _, n := range names {
			if !documented(doc, n) {
				t.Errorf("%s %q is not in %s (as `%s`)", what, n, rulesDoc, n)
			}
		}
	}
	check("field", Fields())
	// An order's or event's lines are items: the document describes their
	// fields once, as item.*.
	var vars []string
	for _, v := range Variables() {
		for _, list := range []string{"event.items[].", "order.items[]."} {
			if rest, ok := strings.CutPrefix(v, list); ok {
				v = "item." + rest
			}
		}
		if !slices.Contains(vars, v) {
			vars = append(vars, v)
		}
	}
	check("expression variable", vars)
	var fns []string
	for _, f := range Functions() {
		fns = append(fns, f+"(n)")
	}
	check("function", fns)
	check("trigger", Triggers())
	check("action type", ActionTypes())
	var cancels, params []string
	for n := range NamedCancels() {
		cancels = append(cancels, n)
	}
	check("named cancel condition", cancels)
	for _, alts := range RequiredParams() {
		for _, alt := range alts {
			params = append(params, alt...)
		}
	}
	check("required param", params)
	check("for_each source", ForEachSources())
	check("kind", Kinds())
	check("limit scope", Scopes())
}

// reasonDirs are the packages that give actions their suppression and
// cancellation reasons (recursively).
var reasonDirs = []string{"rules", "webhooks", "support", "handlers", "models", "cmd/treue", "journey", "shopread"}

// TestRulesDoc_Reasons: docs/rules.md names every reason an action can be
// suppressed, cancelled or given up with. The reasons are string literals
// where the code decides them, so the test reads Treue's Go source: every
// string assigned to a Reason field or a reason variable, set as Reason: in
// a composite literal or "reason" in a map, passed as the reason of
// CancelAction/CancelActions/Cancel, including constants used so. Each
// reason's fixed part (up to the first formatted value) must appear in the
// document as code: `holdout`, `frequency_cap: N per WINDOW`.
func TestRulesDoc_Reasons(t *testing.T) {
	doc := readRulesDoc(t)
	reasons := sourceReasons(t)
	for _, want := range []string{"holdout", "no_consent", "category_opt_out:", "frequency_cap:"} {
		if !slices.Contains(reasons, want) {
			t.Errorf("the source scan misses %q: does it still find the reasons? found %q", want, reasons)
		}
	}
	for _, r := range reasons {
		if !strings.Contains(doc, "`"+r) {
			t.Errorf("reason %q (from the source) is not in %s (as `%s…`)", r, rulesDoc, r)
		}
	}
}

func sourceReasons(t *testing.T) []string {
	t.Helper()
	var reasons []string
	add := func(s string) {
		s = strings.TrimRight(s, " (")
		if s != "" && !slices.Contains(reasons, s) {
			reasons = append(reasons, s)
		}
	}
	for _, dir := range reasonDirs {
		pkgs := map[string][]*ast.File{}
		err := filepath.WalkDir(filepath.Join("..", dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return filepath.SkipDir // a package not there (yet)
				}
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			pkgs[filepath.Dir(path)] = append(pkgs[filepath.Dir(path)], f)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, files := range pkgs {
			consts := stringConsts(files)
			for _, f := range files {
				ast.Inspect(f, func(n ast.Node) bool {
					for _, e := range reasonExprs(n) {
						if s, ok := fixedPart(e, consts); ok {
							add(s)
						}
					}
					return true
				})
			}
		}
	}
	slices.Sort(reasons)
	return reasons
}

// reasonExprs are the expressions n gives as an action's reason.
func reasonExprs(n ast.Node) []ast.Expr {
	isReason := func(e ast.Expr) bool {
		switch e := e.(type) {
		case *ast.Ident:
			return strings.EqualFold(e.Name, "reason")
		case *ast.SelectorExpr:
			return strings.EqualFold(e.Sel.Name, "reason")
		case *ast.BasicLit:
			return e.Value == `"reason"`
		}
		return false
	}
	var out []ast.Expr
	switch n := n.(type) {
	case *ast.AssignStmt:
		if len(n.Lhs) == len(n.Rhs) {
			for i, l := range n.Lhs {
				if isReason(l) {
					out = append(out, n.Rhs[i])
				}
			}
		}
	case *ast.ValueSpec:
		for i, name := range n.Names {
			if isReason(name) && i < len(n.Values) {
				out = append(out, n.Values[i])
			}
		}
	case *ast.KeyValueExpr:
		if isReason(n.Key) {
			out = append(out, n.Value)
		}
	case *ast.CallExpr:
		if sel, ok := n.Fun.(*ast.SelectorExpr); ok && len(n.Args) > 0 &&
			slices.Contains([]string{"CancelAction", "CancelActions", "Cancel"}, sel.Sel.Name) {
			out = append(out, n.Args[len(n.Args)-1])
		}
	}
	return out
}

// fixedPart is the text e starts with: a literal, a constant, the literal
// left of a +, a format's text up to its first verb, or the first argument
// of a call wrapping one of those.
func fixedPart(e ast.Expr, consts map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := consts[e.Name]
		return s, ok
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			return fixedPart(e.X, consts)
		}
	case *ast.ParenExpr:
		return fixedPart(e.X, consts)
	case *ast.CallExpr:
		if len(e.Args) == 0 {
			return "", false
		}
		s, ok := fixedPart(e.Args[0], consts)
		if sel, isSel := e.Fun.(*ast.SelectorExpr); ok && isSel && strings.HasSuffix(sel.Sel.Name, "printf") {
			s, _, _ = strings.Cut(s, "%")
		}
		return s, ok
	}
	return "", false
}

// stringConsts are a package's string constants by name.
func stringConsts(files []*ast.File) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							if s, err := strconv.Unquote(lit.Value); err == nil {
								out[name.Name] = s
							}
						}
					}
				}
			}
		}
	}
	return out
}
