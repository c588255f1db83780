package console

import (
	"strings"
	"testing"
)

// TestStatic_Reports: the Loyalty and Rules pages' files are served, load
// nothing from elsewhere and write no API data as HTML; the page links them.
func TestStatic_Reports(t *testing.T) {
	for _, name := range []string{"static/loyalty.js", "static/loyalty.css", "static/rules.js", "static/rules.css"} {
		b, err := staticFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, bad := range []string{"https://", "http://", "//cdn", "@import", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "style="} {
			if strings.Contains(s, bad) && !(bad == "http://" && strings.Contains(s, "http://www.w3.org/2000/svg")) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
	h := Handler(nil)
	page := get(t, h, "GET", "/console/", nil).Body.String()
	for _, want := range []string{`<script src="loyalty.js" defer>`, `<link rel="stylesheet" href="loyalty.css">`,
		`href="#/reports/loyalty"`, `href="#/reports/rules"`, `id="rules-page"`, `id="loyalty-page"`,
		`<script src="rules.js" defer>`, `<link rel="stylesheet" href="rules.css">`} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	for _, f := range []struct{ path, ctype string }{{"/console/loyalty.js", "javascript"}, {"/console/loyalty.css", "text/css"}} {
		if w := get(t, h, "GET", f.path, nil); w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), f.ctype) {
			t.Errorf("GET %s: %d %s", f.path, w.Code, w.Header().Get("Content-Type"))
		}
	}
}
