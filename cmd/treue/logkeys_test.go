package main

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestLogKeysForAShop holds the module's log calls to the convention set
// where the logger is built (Main.load): a shop is logged as "shop" (its
// key) or "shop_id" (its numeric id), never under another key.
func TestLogKeysForAShop(t *testing.T) {
	logMethods := map[string]bool{
		"Debug": true, "Info": true, "Warn": true, "Error": true,
		"DebugContext": true, "InfoContext": true, "WarnContext": true, "ErrorContext": true,
		"Log": true, "With": true,
	}
	keyLike := regexp.MustCompile(`^[A-Za-z_.]+$`)
	root := filepath.Join("..", "..")
	fset := gotoken.NewFileSet()
	calls := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "vendor" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !logMethods[sel.Sel.Name] {
				return true
			}
			calls++
			for _, arg := range call.Args {
				lit, ok := arg.(*ast.BasicLit)
				if !ok || lit.Kind != gotoken.STRING {
					continue
				}
				key, err := strconv.Unquote(lit.Value)
				if err != nil || !keyLike.MatchString(key) || !strings.Contains(strings.ToLower(key), "shop") {
					continue
				}
				// Counts of shops ("removed_shops") are not a shop.
				if key == "shop" || key == "shop_id" || strings.HasSuffix(key, "shops") {
					continue
				}
				t.Errorf("%s: log key %q names a shop: use \"shop\" (the key) or \"shop_id\" (the numeric id)", fset.Position(lit.Pos()), key)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls < 50 {
		t.Fatalf("found only %d log calls: is the walk rooted at the module?", calls)
	}
}
