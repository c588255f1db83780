package rules

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/treue/treue/nearest"
)

// The rules file is decoded in two steps: yaml.v3 parses it into a node tree,
// then decoder walks that tree into the schema structs. Walking it ourselves
// (instead of yaml.Decoder.KnownFields) lets us report every unknown field,
// wrong type and bad value in one pass, each with its line and column.

// nodeDecoder is implemented by schema types that read themselves from a node
// (scalars with positions, durations, "none"-or-mapping guardrails, expressions).
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node)
}

type decoder struct {
	*diagSink
}

var (
	posType         = reflect.TypeOf(Pos{})
	nodeDecoderType = reflect.TypeOf((*nodeDecoder)(nil)).Elem()
)

func nodePos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// resolve follows aliases and unwraps documents.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch n.Kind {
		case yaml.AliasNode:
			n = n.Alias
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case 0: // an empty document
			return nil
		default:
			return n
		}
	}
	return nil
}

// decode fills v (addressable) from n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value) {
	n = resolve(n)
	if n == nil {
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(nodeDecoderType) {
		v.Addr().Interface().(nodeDecoder).decodeNode(d, n)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Tag == "!!null" {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem())
	case reflect.Struct:
		d.decodeStruct(n, v)
	case reflect.Map:
		d.decodeMap(n, v)
	case reflect.Slice:
		d.decodeSlice(n, v)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.errorf(nodePos(n), "%s", yamlErrMessage(err))
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		d.decodeScalar(n, v)
	}
}

func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(nodePos(n), "expected %s, got %s", scalarKindName(v.Kind()), kindName(n))
		return
	}
	if n.Tag == "!!null" {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
		return
	}
	p := reflect.New(v.Type())
	if err := n.Decode(p.Interface()); err != nil {
		d.errorf(nodePos(n), "expected %s, got %s", scalarKindName(v.Kind()), kindName(n))
		return
	}
	v.Set(p.Elem())
}

func scalarKindName(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a text value"
}

func yamlErrMessage(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: ")
	return s
}

// fieldInfo maps a YAML key to a struct field index.
type fieldInfo struct {
	name  string
	index int
}

func yamlFields(t reflect.Type) []fieldInfo {
	var fs []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		fs = append(fs, fieldInfo{name: name, index: i})
	}
	return fs
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.Anonymous && f.Type == posType {
			v.Field(i).Set(reflect.ValueOf(nodePos(n)))
		}
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(nodePos(n), "expected a mapping, got %s", kindName(n))
		return
	}
	fields := yamlFields(t)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(nodePos(k), "expected a field name, got %s", kindName(k))
			continue
		}
		if seen[k.Value] {
			d.errorf(nodePos(k), "field %q given twice", k.Value)
			continue
		}
		seen[k.Value] = true
		idx := -1
		for _, f := range fields {
			if f.name == k.Value {
				idx = f.index
				break
			}
		}
		if idx < 0 {
			d.errorf(nodePos(k), "unknown field %q%s", k.Value, suggest(k.Value, fields))
			continue
		}
		d.decode(val, v.Field(idx))
	}
}

// suggest names the known fields, or the closest one, for an unknown field.
func suggest(name string, fields []fieldInfo) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	if best, dist := nearest.Name(name, names); best != "" && dist < 3 {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	sort.Strings(names)
	return " (known: " + strings.Join(names, ", ") + ")"
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.errorf(nodePos(n), "expected a mapping, got %s", kindName(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		panic("rules: map keys must be strings")
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(v.Type(), len(n.Content)/2))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			d.errorf(nodePos(k), "expected a name, got %s", kindName(k))
			continue
		}
		key := reflect.ValueOf(k.Value).Convert(v.Type().Key())
		if v.MapIndex(key).IsValid() {
			d.errorf(nodePos(k), "%q given twice", k.Value)
			continue
		}
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(n.Content[i+1], e)
		v.SetMapIndex(key, e)
	}
}

// decodeSlice reads a list; a single scalar is accepted as a list of one
// ("on: order.paid" as well as "on: [order.paid, order.completed]").
func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value) {
	items := n.Content
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return
	case n.Kind == yaml.ScalarNode:
		items = []*yaml.Node{n}
	case n.Kind != yaml.SequenceNode:
		d.errorf(nodePos(n), "expected a list, got %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, it := range items {
		d.decode(it, s.Index(i))
	}
	v.Set(s)
}

func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }
