package rules

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a rules file: 1-based line and column.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// Diagnostic is one problem found in a rules file.
type Diagnostic struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

// String renders the diagnostic the way compilers do: FILE:LINE:COL: message.
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Col, d.Message)
}

// Diagnostics is every problem found in a rules file, sorted by position.
// Parse and Load return it as their error; use errors.As to get at the list.
type Diagnostics []Diagnostic

// Error renders one diagnostic per line.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

func (ds Diagnostics) sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Line != ds[j].Line {
			return ds[i].Line < ds[j].Line
		}
		return ds[i].Col < ds[j].Col
	})
}

// diagSink collects diagnostics for one file.
type diagSink struct {
	file  string
	diags Diagnostics
}

func (s *diagSink) errorf(p Pos, format string, args ...any) {
	s.diags = append(s.diags, Diagnostic{File: s.file, Line: p.Line, Col: p.Col, Message: fmt.Sprintf(format, args...)})
}
