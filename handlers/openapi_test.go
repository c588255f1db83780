package handlers

import (
	"encoding/json"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

var ginParam = regexp.MustCompile(`[:*]([a-zA-Z_]+)`)

// TestOpenAPI checks that openapi.json lists exactly the registered routes.
func TestOpenAPI(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	var documented []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	eng, err := New(Config{Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), MaxBodyBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	var registered []string
	for _, r := range eng.Routes() {
		registered = append(registered, r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}"))
	}
	slices.Sort(documented)
	slices.Sort(registered)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json (edit handlers/openapi/gen.py and run it)", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("openapi.json documents %s, which is not registered", d)
		}
	}
}
