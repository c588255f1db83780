package adobe

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/treue/treue/models"
)

// KeySource returns the RSA public keys to check a signature with whose key
// I/O Events names by a key path header (x-adobe-public-key1-path, -2-path),
// such as "/prod/keys/pub-key-<uuid>.pem". The path comes from an
// unauthenticated request: implementations must not let it choose where a key
// is read from. The caller must not modify the slice. Errors wrap
// models.ErrUnauthorized, and also models.ErrUnavailable when a retry may
// succeed.
type KeySource interface {
	PublicKeys(ctx context.Context, path string) ([]PublicKey, error)
}

// PublicKey is a key a signature may have been made with, and where it came
// from (a file, a URL), which the log names when no key verifies.
type PublicKey struct {
	Key    *rsa.PublicKey
	Origin string
}

// DefaultKeyBaseURL is the only origin Adobe serves its I/O Events public keys
// from, and so the only one KeyFetcher contacts.
const DefaultKeyBaseURL = "https://static.adobeioevents.com"

const (
	// maxKeyAge is how long a fetched key is trusted. Adobe asks for at most 24 h
	// and sends no cache headers to go by.
	maxKeyAge = 24 * time.Hour
	// refusedKeyAge caches a definite refusal (404, not an RSA key) briefly, so a
	// flood of requests naming junk paths does not become a flood of fetches.
	refusedKeyAge = 5 * time.Minute
	// defaultFetchTimeout bounds one key fetch. I/O Events waits 10 s for our
	// answer, and a fetch happens at most once a day per key.
	defaultFetchTimeout = 3 * time.Second
	maxKeyBytes         = 16 << 10
	maxCachedKeys       = 64
	minKeyBits          = 2048
)

// checkKeyPath refuses anything but a plain absolute path: no scheme, host,
// user info, query, traversal or empty segment can reach the URL we build.
func checkKeyPath(p string) error {
	switch {
	case p == "" || len(p) > 256:
		return errors.New("key path is empty or too long")
	case !strings.HasPrefix(p, "/"):
		return errors.New("key path must start with /")
	case strings.Contains(p, ".."), strings.Contains(p, "//"), strings.Contains(p, "@"), strings.Contains(p, ":"):
		return errors.New(`key path may not contain "..", "//", "@" or ":"`)
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/-_.", r)) {
			return fmt.Errorf("key path has a disallowed character %q", r)
		}
	}
	return nil
}

// parseKey reads one RSA public key of at least 2048 bits from PEM (PKIX
// "PUBLIC KEY", as Adobe serves it, or PKCS #1 "RSA PUBLIC KEY").
func parseKey(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	key, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, not RSA", pub)
	}
	if key.N.BitLen() < minKeyBits {
		return nil, fmt.Errorf("RSA key has %d bits, want at least %d", key.N.BitLen(), minKeyBits)
	}
	return key, nil
}

// StaticKeys serves keys from PEM files downloaded ahead of time, for hosts
// that cannot reach static.adobeioevents.com: save
// https://static.adobeioevents.com/prod/keys/pub-key-<uuid>.pem under any
// name. Every configured key is tried for every signature, whatever key path
// the delivery names: the files are Adobe's keys, all trusted alike, so the
// path only says which one to try first (the file of that name, if any).
// Matching files to paths by name instead made a file saved under another
// name never answer. Adobe rotates its keys, so the files need updating when
// it does; KeyFetcher needs no such care.
type StaticKeys struct {
	keys []PublicKey // in configuration order, each key once
}

// LoadKeyFiles reads the PEM files of every Adobe shop's public_key_files.
// The keys are Adobe's own, the same for every project, so one StaticKeys can
// serve all shops; the recipientclientid check ties a delivery to its shop.
// A key listed twice (by two shops, or under two names) is kept once, so that
// a signature that verifies with none is not checked twice against it.
func LoadKeyFiles(files ...string) (*StaticKeys, error) {
	if len(files) == 0 {
		return nil, errors.New("adobe: load public keys: no files")
	}
	s := &StaticKeys{keys: make([]PublicKey, 0, len(files))}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("adobe: load public key: %w", err)
		}
		key, err := parseKey(data)
		if err != nil {
			return nil, fmt.Errorf("adobe: load public key %s: %w", f, err)
		}
		if !slices.ContainsFunc(s.keys, func(k PublicKey) bool { return k.Key.Equal(key) }) {
			s.keys = append(s.keys, PublicKey{Key: key, Origin: f})
		}
	}
	return s, nil
}

// Files lists the files the keys were read from, for the log.
func (s *StaticKeys) Files() []string {
	files := make([]string, len(s.keys))
	for i, k := range s.keys {
		files[i] = k.Origin
	}
	return files
}

// PublicKeys returns every configured key, the one whose file name is the
// path's last element first.
func (s *StaticKeys) PublicKeys(_ context.Context, keyPath string) ([]PublicKey, error) {
	if err := checkKeyPath(keyPath); err != nil {
		return nil, fmt.Errorf("adobe: key %s: %w: %w", shown(keyPath), err, models.ErrUnauthorized)
	}
	name := path.Base(keyPath)
	i := slices.IndexFunc(s.keys, func(k PublicKey) bool { return path.Base(strings.ReplaceAll(k.Origin, `\`, "/")) == name })
	if i <= 0 {
		return s.keys, nil
	}
	ordered := make([]PublicKey, 0, len(s.keys))
	ordered = append(ordered, s.keys[i])
	ordered = append(ordered, s.keys[:i]...)
	return append(ordered, s.keys[i+1:]...), nil
}

// KeyFetcher fetches keys from https://static.adobeioevents.com plus the path
// named in the request, and caches each for at most 24 hours. It never fetches
// from anywhere else: the path is checked to be a plain path, redirects are not
// followed, and the origin is fixed.
type KeyFetcher struct {
	// baseURL is DefaultKeyBaseURL. Production code never changes it (it is not
	// configurable); only this package's tests point it at an httptest server.
	baseURL string
	client  *http.Client
	now     func() time.Time
	timeout time.Duration

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	key     *rsa.PublicKey
	err     error
	expires time.Time
}

// NewKeyFetcher returns a fetcher that uses client (shared, with its own
// transport settings; nil means a default client) and reads the time from now
// (nil means time.Now). The client is used with redirects disabled, and every
// fetch is bounded by its own timeout as well as by the caller's context (the
// webhook request's, through plugin.Receiver.Verify).
func NewKeyFetcher(client *http.Client, now func() time.Time) *KeyFetcher {
	if client == nil {
		client = &http.Client{}
	}
	if now == nil {
		now = time.Now
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &KeyFetcher{
		baseURL: DefaultKeyBaseURL,
		client:  &c,
		now:     now,
		timeout: defaultFetchTimeout,
		cache:   make(map[string]cachedKey),
	}
}

// PublicKeys returns the key at keyPath (see PublicKey), named by its URL.
func (f *KeyFetcher) PublicKeys(ctx context.Context, keyPath string) ([]PublicKey, error) {
	key, err := f.PublicKey(ctx, keyPath)
	if err != nil {
		return nil, err
	}
	return []PublicKey{{Key: key, Origin: f.baseURL + keyPath}}, nil
}

// PublicKey returns the key at keyPath, from the cache while it is fresh.
func (f *KeyFetcher) PublicKey(ctx context.Context, keyPath string) (*rsa.PublicKey, error) {
	if err := checkKeyPath(keyPath); err != nil {
		return nil, fmt.Errorf("adobe: key %s: %w: %w", shown(keyPath), err, models.ErrUnauthorized)
	}
	now := f.now()
	f.mu.Lock()
	c, ok := f.cache[keyPath]
	f.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.key, c.err
	}

	key, err := f.fetch(ctx, keyPath)
	switch {
	case err == nil:
		f.store(keyPath, cachedKey{key: key, expires: now.Add(maxKeyAge)}, now)
	case !errors.Is(err, models.ErrUnavailable):
		f.store(keyPath, cachedKey{err: err, expires: now.Add(refusedKeyAge)}, now)
	}
	return key, err
}

// store caches an entry, making room first: expired entries go, then refusals,
// then any entry. The cache stays small because Adobe uses two keys at a time.
func (f *KeyFetcher) store(keyPath string, c cachedKey, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.cache) >= maxCachedKeys {
		for p, e := range f.cache {
			if !now.Before(e.expires) || e.err != nil {
				delete(f.cache, p)
			}
		}
	}
	for p := range f.cache {
		if len(f.cache) < maxCachedKeys {
			break
		}
		delete(f.cache, p)
	}
	f.cache[keyPath] = c
}

// fetch downloads and parses one key. Network errors and 5xx answers are
// transient (ErrUnavailable); anything else is a refusal.
func (f *KeyFetcher) fetch(ctx context.Context, keyPath string) (*rsa.PublicKey, error) {
	base, err := url.Parse(f.baseURL)
	if err != nil {
		return nil, fmt.Errorf("adobe: key base URL: %w: %w", err, models.ErrUnauthorized)
	}
	u, err := url.Parse(f.baseURL + keyPath)
	if err != nil || u.Scheme != base.Scheme || u.Host != base.Host || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("adobe: key %q does not resolve under %s: %w", keyPath, f.baseURL, models.ErrUnauthorized)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("adobe: fetch key: %w: %w", err, models.ErrUnauthorized)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("adobe: fetch key %s: %w: %w: %w", keyPath, err, models.ErrUnavailable, models.ErrUnauthorized)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return nil, fmt.Errorf("adobe: fetch key %s: status %d: %w: %w", keyPath, resp.StatusCode, models.ErrUnavailable, models.ErrUnauthorized)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("adobe: fetch key %s: status %d: %w", keyPath, resp.StatusCode, models.ErrUnauthorized)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxKeyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("adobe: fetch key %s: %w: %w: %w", keyPath, err, models.ErrUnavailable, models.ErrUnauthorized)
	}
	if len(data) > maxKeyBytes {
		return nil, fmt.Errorf("adobe: fetch key %s: larger than %d bytes: %w", keyPath, maxKeyBytes, models.ErrUnauthorized)
	}
	key, err := parseKey(data)
	if err != nil {
		return nil, fmt.Errorf("adobe: fetch key %s: %w: %w", keyPath, err, models.ErrUnauthorized)
	}
	return key, nil
}
