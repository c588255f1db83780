package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/treue/treue/nearest"
)

// source is the parsed config file, kept to point errors at file and line.
type source struct {
	path  string
	root  *yaml.Node
	lines map[string]int // key path ("http.addr", "shops[0].key") → line
}

func parseSource(path string, data []byte) (*source, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	s := &source{path: path, lines: map[string]int{}}
	if len(doc.Content) == 0 {
		return s, nil // empty file: defaults only
	}
	s.root = doc.Content[0]
	if s.root.Kind != yaml.MappingNode {
		return nil, &KeyError{File: path, Line: s.root.Line, Key: "(top level)", Msg: "must be a mapping of sections"}
	}
	s.index(s.root, "")
	return s, nil
}

func (s *source) index(n *yaml.Node, prefix string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if prefix != "" {
				k = prefix + "." + k
			}
			s.lines[k] = n.Content[i].Line
			s.index(n.Content[i+1], k)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			k := prefix + "[" + strconv.Itoa(i) + "]"
			s.lines[k] = c.Line
			s.index(c, k)
		}
	}
}

// checkKnown reports every key in the file that Config does not have, with its line.
func (s *source) checkKnown(t reflect.Type) error {
	if s.root == nil {
		return nil
	}
	var errs Errors
	s.walk(s.root, t, "", &errs)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (s *source) walk(n *yaml.Node, t reflect.Type, prefix string, errs *Errors) {
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // a type error, reported by the decoder with the key name
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			fields[f.Tag.Get("mapstructure")] = f.Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			key := k.Value
			if prefix != "" {
				key = prefix + "." + k.Value
			}
			ft, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, &KeyError{File: s.path, Line: k.Line, Key: key, Msg: "unknown key" + suggest(prefix, k.Value, fields)})
				continue
			}
			s.walk(n.Content[i+1], ft, key, errs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			s.walk(c, t.Elem(), prefix+"["+strconv.Itoa(i)+"]", errs)
		}
	}
}

// suggest names what an unknown key probably meant: a known key of the
// same section a typo away, the same key in another section (an option put
// under the wrong heading), a known key of the section that is still close,
// or else every key the section has.
func suggest(prefix, got string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	slices.Sort(names)
	best, dist := nearest.Name(strings.ToLower(got), names)
	if best != "" && dist <= 2 {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if !strings.ContainsAny(prefix, ".[") { // the top level or a section, not a shop
		for _, k := range Keys() {
			if section, key, _ := strings.Cut(k, "."); key == got && section != prefix {
				return fmt.Sprintf(" (did you mean %q?)", k)
			}
		}
	}
	// "adress" is four edits from "addr": a long word may be further from
	// the key it means than a short one.
	if best != "" && 3*dist <= 2*len(got) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

// mapstructure names keys like "'http.max_body_bytes' expected type 'int64'";
// the key inside quotes is the one to locate.
var quotedKey = regexp.MustCompile(`'([a-z0-9_.\[\]]+)'`)

// explain turns a decoder error into KeyErrors naming file and line.
func (s *source) explain(err error) error {
	var errs Errors
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "*"))
		if line == "" || strings.HasPrefix(line, "decoding failed") || strings.HasSuffix(line, "error(s) decoding:") {
			continue
		}
		m := quotedKey.FindStringSubmatch(line)
		if m == nil {
			errs = append(errs, fmt.Errorf("config: %s", line))
			continue
		}
		ke := &KeyError{Key: m[1], Msg: strings.TrimSpace(strings.Replace(line, m[0], "", 1))}
		if s != nil {
			ke.File, ke.Line = s.path, s.lineOf(m[1])
		}
		errs = append(errs, ke)
	}
	if len(errs) == 0 {
		return fmt.Errorf("config: %w", err)
	}
	return errs
}

// locate adds file and line to validation errors.
func (s *source) locate(err error) error {
	if s == nil {
		return err
	}
	var errs Errors
	if !errors.As(err, &errs) {
		return err
	}
	for _, e := range errs {
		var ke *KeyError
		if errors.As(e, &ke) {
			ke.File = s.path
			ke.Line = s.lineOf(ke.Key)
		}
	}
	return errs
}

// lineOf finds the line of key, or of its nearest parent present in the file
// (a missing required key is best shown where its section starts).
func (s *source) lineOf(key string) int {
	for key != "" {
		if l, ok := s.lines[key]; ok {
			return l
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			return 0
		}
		key = key[:i]
	}
	return 0
}
