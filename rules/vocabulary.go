package rules

import (
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/expr-lang/expr/conf"

	"github.com/treue/treue/models"
)

// The vocabulary of a rules file: every name a merchant can write, derived
// from the definitions the compiler and the evaluator use (the YAML schema,
// the expression environment, the options expressions are compiled with),
// so that docs/rules.md can be checked against what the engine knows.

// Fields lists every field of a rules file as a path: "defaults.timezone",
// "points.tiers[].name", "catalog.<sku>.cost", "rules[].when.after".
func Fields() []string {
	var out []string
	walkYAML(reflect.TypeFor[fileSpec](), "", &out)
	return out
}

// yamlLeaves are the schema's scalar types: structs that decode one YAML value.
var yamlLeaves = []reflect.Type{
	reflect.TypeFor[text](), reflect.TypeFor[numberVal](), reflect.TypeFor[durationVal](),
	reflect.TypeFor[clockVal](), reflect.TypeFor[exprSrc](),
}

func walkYAML(t reflect.Type, prefix string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case slices.Contains(yamlLeaves, t):
		*out = append(*out, prefix)
		return
	case t.Kind() == reflect.Slice && prefix != "":
		walkYAML(t.Elem(), prefix+"[]", out)
		return
	case t.Kind() == reflect.Map && isStruct(t.Elem()):
		walkYAML(t.Elem(), prefix+".<"+mapKeyName(prefix)+">", out)
		return
	case t.Kind() != reflect.Struct:
		*out = append(*out, prefix)
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.Anonymous || name == "" || name == "-" {
			continue
		}
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		walkYAML(f.Type, p, out)
	}
}

func isStruct(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && !slices.Contains(yamlLeaves, t)
}

// mapKeyName names the key of a map in a path: the catalog is keyed by SKU.
func mapKeyName(prefix string) string {
	if prefix == "catalog" {
		return "sku"
	}
	return "name"
}

// Variables lists every name an expression can read, as a path:
// "event.type", "order.items[].sku", "catalog[sku].cost", "now".
func Variables() []string {
	var out []string
	walkExpr(reflect.TypeFor[Env](), "", &out)
	return out
}

func walkExpr(t reflect.Type, prefix string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case prefix != "" && t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		*out = append(*out, prefix)
		walkExpr(t.Elem(), prefix+"[]", out)
		return
	case prefix != "" && t.Kind() == reflect.Map && t.Elem().Kind() == reflect.Struct:
		*out = append(*out, prefix)
		walkExpr(t.Elem(), prefix+"[sku]", out)
		return
	case t.Kind() != reflect.Struct || t.PkgPath() != reflect.TypeFor[Env]().PkgPath():
		*out = append(*out, prefix)
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("expr")
		if name == "" || name == "-" {
			continue
		}
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		walkExpr(f.Type, p, out)
	}
}

// Functions lists the functions expressions can call besides expr's
// built-ins, as the compiler registers them.
func Functions() []string {
	c := conf.CreateNew()
	for _, o := range (&compiler{set: &Set{}}).exprOptions() {
		o(c)
	}
	return slices.Sorted(maps.Keys(c.Functions))
}

// Triggers lists what a rule's on: can name: every event type and daily_scan.
func Triggers() []string { return eventTypeNames() }

// ActionTypes lists every action type a rule's action.type can name.
func ActionTypes() []string {
	out := make([]string, len(models.ActionTypes))
	for i, t := range models.ActionTypes {
		out[i] = string(t)
	}
	return out
}

// RequiredParams lists, per action type, the params it cannot do without;
// each inner list is alternatives (one of them is needed).
func RequiredParams() map[string][][]string {
	out := make(map[string][][]string, len(requiredParams))
	for t, p := range requiredParams {
		out[string(t)] = p
	}
	return out
}

// NamedCancels lists the named cancel conditions with what each means.
func NamedCancels() map[string]string { return maps.Clone(namedCancels) }

// ForEachSources lists what for_each can iterate.
func ForEachSources() []string { return slices.Clone(forEachSources) }

// Kinds lists the values of kind.
func Kinds() []string { return []string{string(KindMarketing), string(KindService)} }

// Scopes lists the values of limit.once_per.
func Scopes() []string {
	return []string{string(PerCustomer), string(PerOrder), string(PerItem), string(PerSKU), string(PerEvent),
		string(PerCart)}
}
