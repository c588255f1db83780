package handlers

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoStoreImport: the HTTP layer reads through support and its own small
// interfaces, and writes its own DTOs; store rows never reach it. Tests may
// still set up a store.
func TestNoStoreImport(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range ast.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "github.com/treue/treue/models/store" || strings.HasPrefix(path, "github.com/treue/treue/models/store/") {
				t.Errorf("%s imports %s: read through support or an interface of handlers' own, and answer with handlers' DTOs", f, path)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no files checked")
	}
}
