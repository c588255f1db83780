// Package console serves the support console: a small single-page app
// (plain HTML, CSS and JavaScript, no external resources) that signs in with an
// API token and reads a customer's profile and timeline from /api/v1.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// Prefix is where the console lives; Handler strips it itself.
const Prefix = "/console"

// csp allows nothing but the console's own files and same-origin API calls.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type file struct {
	body  []byte
	ctype string
	etag  string
}

// Handler serves the embedded console under /console/: "/console/" and
// "/console/index.html" answer with the page, "/console/console.js" and
// "/console/console.css" with its assets. It strips the prefix itself, so mount
// it as is, e.g. r.GET("/console/*filepath", gin.WrapH(console.Handler(nil))) and
// the same for HEAD; a path without the prefix is served as well. "/console"
// redirects to "/console/" (the page loads its assets relative to it).
//
// notFound answers a path with no file, so that the embedding server can
// answer as it does elsewhere (Treue: problem+json); nil answers a plain 404.
func Handler(notFound http.Handler) http.Handler {
	if notFound == nil {
		notFound = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte("404 page not found\n"))
		})
	}
	files := map[string]*file{}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		files["/"+p] = &file{body: b, ctype: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := r.URL.Path
		if p == Prefix {
			http.Redirect(w, r, Prefix+"/", http.StatusMovedPermanently)
			return
		}
		if rest, ok := strings.CutPrefix(p, Prefix+"/"); ok {
			p = "/" + rest
		}
		if p == "" || p == "/" {
			p = "/index.html"
		}
		f, ok := files[p]
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if !ok {
			notFound.ServeHTTP(w, r)
			return
		}
		h.Set("Content-Type", f.ctype)
		h.Set("ETag", f.etag)
		// Revalidate every time: the files are small and change with each release.
		h.Set("Cache-Control", "no-cache")
		if strings.HasPrefix(f.ctype, "text/html") {
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Frame-Options", "DENY")
		}
		http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(f.body))
	})
}
