package console

import (
	"strings"
	"testing"
)

// TestStatic_Budget: the Budget page's files are served, load nothing from
// elsewhere and write no API data as HTML; the page links them and the nav
// leads to it.
func TestStatic_Budget(t *testing.T) {
	for _, name := range []string{"static/budget.js", "static/budget.css"} {
		b, err := staticFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, bad := range []string{"https://", "http://", "//cdn", "@import", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "style="} {
			if strings.Contains(s, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
	h := Handler(nil)
	page := get(t, h, "GET", "/console/", nil).Body.String()
	for _, want := range []string{`<script src="budget.js" defer>`, `<link rel="stylesheet" href="budget.css">`,
		`<a href="#/reports/budget" data-page="budget">Budget</a>`, `id="budget-page"`, `id="budget-form"`, `id="budget-from"`, `id="budget-to"`, `id="budget-body"`} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	for _, f := range []struct{ path, ctype string }{{"/console/budget.js", "javascript"}, {"/console/budget.css", "text/css"}} {
		if w := get(t, h, "GET", f.path, nil); w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), f.ctype) {
			t.Errorf("GET %s: %d %s", f.path, w.Code, w.Header().Get("Content-Type"))
		}
	}
	js := get(t, h, "GET", "/console/console.js", nil).Body.String()
	if !strings.Contains(js, "(loyalty|rules|budget)") {
		t.Error("console.js does not route #/reports/budget")
	}
}
