package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestHandler(t *testing.T) {
	h := Handler(nil)
	tests := []struct {
		path, ctype, contains string
		status                int
	}{
		{"/console/", "text/html", `<script src="console.js" defer>`, 200},
		{"/console/index.html", "text/html", `id="signin-form"`, 200},
		{"/console/console.js", "javascript", "Your token is invalid or expired", 200},
		{"/console/console.css", "text/css", ":focus-visible", 200},
		{"/console/favicon.svg", "image/svg+xml", "<svg", 200},
		{"/", "text/html", `id="timeline-list"`, 200}, // mounted behind http.StripPrefix
		{"/console/nope.js", "text/plain", "404", 404},
		{"/console/../console.go", "text/plain", "404", 404},
	}
	for _, tt := range tests {
		w := get(t, h, "GET", tt.path, nil)
		if w.Code != tt.status || !strings.Contains(w.Header().Get("Content-Type"), tt.ctype) || !strings.Contains(w.Body.String(), tt.contains) {
			t.Errorf("GET %s: %d %q, want %d %s containing %q", tt.path, w.Code, w.Header().Get("Content-Type"), tt.status, tt.ctype, tt.contains)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", tt.path)
		}
	}
	if w := get(t, h, "GET", "/console", nil); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/console/" {
		t.Errorf("GET /console: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := get(t, h, "POST", "/console/", nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}
	if w := get(t, h, "HEAD", "/console/console.js", nil); w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d %d bytes", w.Code, w.Body.Len())
	}
}

func TestHandler_SecurityAndCaching(t *testing.T) {
	h := Handler(nil)
	w := get(t, h, "GET", "/console/", nil)
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	etag := w.Header().Get("ETag")
	if etag == "" || w.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, w.Header().Get("Cache-Control"))
	}
	if w := get(t, h, "GET", "/console/", map[string]string{"If-None-Match": etag}); w.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", w.Code)
	}
}

// TestStatic_Offline: the console loads nothing from elsewhere and writes no
// API data as HTML.
func TestStatic_Offline(t *testing.T) {
	for _, name := range []string{"static/index.html", "static/console.js", "static/console.css"} {
		b, err := staticFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, bad := range []string{"https://", "http://", "//cdn", "@import", "innerHTML", "insertAdjacentHTML", "document.write", "eval("} {
			if strings.Contains(s, bad) && !(bad == "http://" && strings.Contains(s, "http://www.w3.org/2000/svg")) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}

// TestHandler_NotFound: a path with no file is answered by the handler the
// embedding server passes, with the console's own headers kept.
func TestHandler_NotFound(t *testing.T) {
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"status":404,"instance":"` + r.URL.Path + `"}`))
	}))
	for _, p := range []string{"/console/nope.js", "/console/../console.go"} {
		w := get(t, h, "GET", p, nil)
		if w.Code != 404 || w.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(w.Body.String(), `"status":404`) {
			t.Errorf("GET %s: %d %q %s", p, w.Code, w.Header().Get("Content-Type"), w.Body.String())
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", p)
		}
	}
	if w := get(t, h, "GET", "/console/", nil); w.Code != 200 {
		t.Errorf("GET /console/: %d", w.Code)
	}
}
