package adobe

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

func pemOf(tb testing.TB, k *rsa.PublicKey) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// fakeClock is a settable clock for the cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// keyServer stands in for static.adobeioevents.com and counts requests per path.
type keyServer struct {
	*httptest.Server
	hits  atomic.Int64
	mu    sync.Mutex
	paths []string
}

func newKeyServer(t *testing.T, handler http.HandlerFunc) *keyServer {
	s := &keyServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// newTestFetcher points a fetcher at srv, the one thing production never does.
func newTestFetcher(srv *keyServer, clock *fakeClock) *KeyFetcher {
	f := NewKeyFetcher(srv.Client(), clock.Now)
	f.baseURL = srv.URL
	return f
}

func TestKeyFetcher(t *testing.T) {
	keyPEM := pemOf(t, &testKey1.PublicKey)
	serveKey := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != testKeyPath1 {
			http.NotFound(w, r)
			return
		}
		w.Write(keyPEM)
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	t.Run("ProductionOrigin", func(t *testing.T) {
		f := NewKeyFetcher(http.DefaultClient, time.Now)
		if f.baseURL != "https://static.adobeioevents.com" {
			t.Fatalf("baseURL = %q", f.baseURL)
		}
	})

	t.Run("ErrLogNamesTheKeysURL", func(t *testing.T) {
		srv := newKeyServer(t, serveKey)
		f := newTestFetcher(srv, &fakeClock{t: start})
		d := signedDelivery(mustReadFixture(t, "order_new.json"))
		d.Header.Set("x-adobe-digital-signature-1", signBody(testKey2, d.Body))
		err := New(f).Verify(context.Background(), d, testShop(), start)
		for _, want := range []string{
			`signature 1 (key path "` + testKeyPath1 + `") is valid under none of the keys from ` + srv.URL + testKeyPath1,
			`signature 2 (key path "` + testKeyPath2 + `"): adobe: fetch key ` + testKeyPath2 + `: status 404`,
		} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Verify = %v\nwant it to say %q", err, want)
			}
		}
	})

	t.Run("OKCachedFor24Hours", func(t *testing.T) {
		srv := newKeyServer(t, serveKey)
		clock := &fakeClock{t: start}
		f := newTestFetcher(srv, clock)
		for i := 0; i < 3; i++ {
			k, err := f.PublicKey(context.Background(), testKeyPath1)
			if err != nil {
				t.Fatal(err)
			}
			if !k.Equal(&testKey1.PublicKey) {
				t.Fatal("wrong key")
			}
			clock.Add(time.Hour)
		}
		if n := srv.hits.Load(); n != 1 {
			t.Fatalf("fetched %d times within the day, want 1", n)
		}
		clock.Add(21*time.Hour + time.Second) // 24 h after the fetch
		if _, err := f.PublicKey(context.Background(), testKeyPath1); err != nil {
			t.Fatal(err)
		}
		if n := srv.hits.Load(); n != 2 {
			t.Fatalf("fetched %d times, want a refetch after 24 h", n)
		}
		if srv.paths[0] != testKeyPath1 {
			t.Fatalf("requested %q", srv.paths[0])
		}
	})

	t.Run("ErrForeignPathsNeverFetched", func(t *testing.T) {
		srv := newKeyServer(t, serveKey)
		f := newTestFetcher(srv, &fakeClock{t: start})
		for _, p := range []string{
			"",
			"prod/keys/pub-key.pem",
			"https://evil.example/pub-key.pem",
			"http://static.adobeioevents.com/prod/keys/pub-key.pem",
			"//evil.example/pub-key.pem",
			"/prod//keys/pub-key.pem",
			"/prod/../../etc/passwd",
			"/prod/keys/..",
			"/@evil.example/pub-key.pem",
			"/prod/keys/pub-key.pem@evil.example",
			"/prod/keys/pub-key.pem?x=https://evil.example",
			"/prod/keys/pub-key.pem#frag",
			"/prod/keys/%2e%2e/pub-key.pem",
			"/prod\\keys\\pub-key.pem",
			"/prod/keys/pub key.pem",
			"/prod/keys/pub-key.pem\n",
			"/:8080/pub-key.pem",
		} {
			if _, err := f.PublicKey(context.Background(), p); !errors.Is(err, models.ErrUnauthorized) {
				t.Errorf("PublicKey(%q) = %v, want ErrUnauthorized", p, err)
			}
		}
		if n := srv.hits.Load(); n != 0 {
			t.Fatalf("the server was asked %d times: %v", n, srv.paths)
		}
	})

	t.Run("ErrRedirectNotFollowed", func(t *testing.T) {
		elsewhere := newKeyServer(t, serveKey)
		srv := newKeyServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
		})
		f := newTestFetcher(srv, &fakeClock{t: start})
		if _, err := f.PublicKey(context.Background(), testKeyPath1); !errors.Is(err, models.ErrUnauthorized) {
			t.Fatalf("PublicKey = %v, want ErrUnauthorized", err)
		}
		if n := elsewhere.hits.Load(); n != 0 {
			t.Fatalf("followed the redirect (%d requests elsewhere)", n)
		}
	})

	t.Run("ErrNotFoundIsCachedBriefly", func(t *testing.T) {
		srv := newKeyServer(t, serveKey)
		clock := &fakeClock{t: start}
		f := newTestFetcher(srv, clock)
		for i := 0; i < 2; i++ {
			_, err := f.PublicKey(context.Background(), "/prod/keys/pub-key-unknown.pem")
			if !errors.Is(err, models.ErrUnauthorized) || errors.Is(err, models.ErrUnavailable) {
				t.Fatalf("PublicKey = %v, want ErrUnauthorized and not ErrUnavailable", err)
			}
		}
		if n := srv.hits.Load(); n != 1 {
			t.Fatalf("fetched %d times, want 1", n)
		}
		clock.Add(refusedKeyAge)
		_, _ = f.PublicKey(context.Background(), "/prod/keys/pub-key-unknown.pem")
		if n := srv.hits.Load(); n != 2 {
			t.Fatalf("fetched %d times, want a retry after %v", n, refusedKeyAge)
		}
	})

	t.Run("ErrServerErrorIsTransientAndNotCached", func(t *testing.T) {
		srv := newKeyServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		})
		f := newTestFetcher(srv, &fakeClock{t: start})
		for i := 0; i < 2; i++ {
			_, err := f.PublicKey(context.Background(), testKeyPath1)
			if !errors.Is(err, models.ErrUnavailable) || !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("PublicKey = %v, want ErrUnavailable and ErrUnauthorized", err)
			}
		}
		if n := srv.hits.Load(); n != 2 {
			t.Fatalf("fetched %d times, want every call to retry", n)
		}
	})

	t.Run("ErrTimeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := newKeyServer(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		f := newTestFetcher(srv, &fakeClock{t: start})
		f.timeout = 50 * time.Millisecond
		began := time.Now()
		_, err := f.PublicKey(context.Background(), testKeyPath1)
		if !errors.Is(err, models.ErrUnavailable) {
			t.Fatalf("PublicKey = %v, want ErrUnavailable", err)
		}
		if d := time.Since(began); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
	})

	// Verify passes the request's context to the fetch: a sender that hangs
	// up stops it, long before the fetcher's own timeout.
	t.Run("VerifyCancelledWithTheRequest", func(t *testing.T) {
		release := make(chan struct{})
		srv := newKeyServer(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		f := newTestFetcher(srv, &fakeClock{t: start})
		f.timeout = time.Hour
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		d := signedDelivery(mustReadFixture(t, "order_new.json"))
		began := time.Now()
		err := New(f).Verify(ctx, d, testShop(), start)
		if !errors.Is(err, models.ErrUnauthorized) || !errors.Is(err, models.ErrUnavailable) || !strings.Contains(err.Error(), context.Canceled.Error()) {
			t.Fatalf("Verify = %v, want a cancelled fetch (unavailable, unauthorized)", err)
		}
		if d := time.Since(began); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
	})

	for name, body := range map[string][]byte{
		"ErrNotPEM":       []byte("<html>hello</html>"),
		"ErrPrivateKey":   pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(mustRSAKey(1024))}),
		"ErrKeyTooShort":  pemOf(t, &mustRSAKey(1024).PublicKey),
		"ErrResponseHuge": make([]byte, maxKeyBytes+1),
	} {
		t.Run(name, func(t *testing.T) {
			srv := newKeyServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
			f := newTestFetcher(srv, &fakeClock{t: start})
			if _, err := f.PublicKey(context.Background(), testKeyPath1); !errors.Is(err, models.ErrUnauthorized) || errors.Is(err, models.ErrUnavailable) {
				t.Fatalf("PublicKey = %v, want a refusal", err)
			}
		})
	}

	t.Run("CacheStaysBounded", func(t *testing.T) {
		srv := newKeyServer(t, serveKey)
		f := newTestFetcher(srv, &fakeClock{t: start})
		if _, err := f.PublicKey(context.Background(), testKeyPath1); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3*maxCachedKeys; i++ {
			_, _ = f.PublicKey(context.Background(), "/prod/keys/junk-"+string(rune('a'+i%26))+string(rune('a'+i/26))+".pem")
		}
		if n := len(f.cache); n > maxCachedKeys {
			t.Fatalf("cache holds %d entries", n)
		}
		hits := srv.hits.Load()
		if _, err := f.PublicKey(context.Background(), testKeyPath1); err != nil {
			t.Fatal(err)
		}
		if srv.hits.Load() != hits {
			t.Fatal("junk paths pushed the real key out of the cache")
		}
	})

	t.Run("VerifiesThroughReceiver", func(t *testing.T) {
		srv := newKeyServer(t, serveKey)
		f := newTestFetcher(srv, &fakeClock{t: start})
		d := signedDelivery(mustReadFixture(t, "order_new.json"))
		if err := New(f).Verify(context.Background(), d, testShop(), start); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
}

func writePEM(t *testing.T, dir, name string, k *rsa.PublicKey) string {
	t.Helper()
	f := filepath.Join(dir, name)
	if err := os.WriteFile(f, pemOf(t, k), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLoadKeyFiles(t *testing.T) {
	dir := t.TempDir()
	// Named as the README shows, not after Adobe's key path: a file answers
	// for whatever path a delivery names.
	file1 := writePEM(t, dir, "adobe-io-1.pem", &testKey1.PublicKey)
	file2 := writePEM(t, dir, filepath.Base(testKeyPath2), &testKey2.PublicKey)
	keys, err := LoadKeyFiles(file1, file2)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("AnyFileNameVerifies", func(t *testing.T) {
		d := signedDelivery(mustReadFixture(t, "order_new.json"))
		d.Header.Del("x-adobe-digital-signature-2")
		if err := New(keys).Verify(context.Background(), d, testShop(), time.Now()); err != nil {
			t.Fatalf("Verify with the key in %s for %s: %v", file1, testKeyPath1, err)
		}
		one, err := LoadKeyFiles(file1)
		if err != nil {
			t.Fatal(err)
		}
		if err := New(one).Verify(context.Background(), d, testShop(), time.Now()); err != nil {
			t.Fatalf("Verify with %s alone: %v", file1, err)
		}
	})
	t.Run("FileNamedAfterThePathFirst", func(t *testing.T) {
		got, err := keys.PublicKeys(context.Background(), testKeyPath2)
		if err != nil || len(got) != 2 || got[0].Origin != file2 || got[1].Origin != file1 {
			t.Fatalf("PublicKeys(%s) = %v, %v; want %s first, then %s", testKeyPath2, got, err, file2, file1)
		}
		got, err = keys.PublicKeys(context.Background(), testKeyPath1)
		if err != nil || len(got) != 2 || got[0].Origin != file1 {
			t.Fatalf("PublicKeys(%s) = %v, %v; want both, in configuration order", testKeyPath1, got, err)
		}
	})
	t.Run("SameKeyOnce", func(t *testing.T) {
		copyOf1 := writePEM(t, dir, "copy.pem", &testKey1.PublicKey)
		k, err := LoadKeyFiles(file1, copyOf1, file1, file2)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Files(); !slices.Equal(got, []string{file1, file2}) {
			t.Fatalf("Files() = %v, want %v", got, []string{file1, file2})
		}
	})
	t.Run("ErrLogSaysPathAndFiles", func(t *testing.T) {
		one, err := LoadKeyFiles(file1)
		if err != nil {
			t.Fatal(err)
		}
		d := signedDelivery(mustReadFixture(t, "order_new.json"))
		d.Header.Set("x-adobe-digital-signature-1", signBody(testKey2, d.Body))
		err = New(one).Verify(context.Background(), d, testShop(), time.Now())
		if !errors.Is(err, models.ErrUnauthorized) || errors.Is(err, models.ErrUnavailable) {
			t.Fatalf("Verify = %v, want ErrUnauthorized alone", err)
		}
		for _, want := range []string{`signature 1 (key path "` + testKeyPath1 + `") is valid under none of the keys from ` + file1,
			`signature 2 (key path "` + testKeyPath2 + `") is valid under none of the keys from ` + file1} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q:\n%v", want, err)
			}
		}
	})
	t.Run("ErrBadPath", func(t *testing.T) {
		for _, p := range []string{"/x/../" + filepath.Base(file1), "https://evil.example/k.pem", "/" + strings.Repeat("a", 300)} {
			if _, err := keys.PublicKeys(context.Background(), p); !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("PublicKeys(%q) = %v, want ErrUnauthorized", p, err)
			} else if len(err.Error()) > 400 {
				t.Fatalf("the error repeats the whole path: %d bytes", len(err.Error()))
			}
		}
	})
	t.Run("ErrNoFiles", func(t *testing.T) {
		if _, err := LoadKeyFiles(); err == nil {
			t.Fatal("want error")
		}
	})
	t.Run("ErrMissingFile", func(t *testing.T) {
		if _, err := LoadKeyFiles(filepath.Join(dir, "nope.pem")); err == nil {
			t.Fatal("want error")
		}
	})
	t.Run("ErrNotAKey", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.pem")
		if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeyFiles(bad); err == nil {
			t.Fatal("want error")
		}
	})
}
