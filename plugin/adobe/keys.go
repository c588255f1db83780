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
	"strings"
	"sync"
	"time"

	"github.com/treue/treue/models"
)

// KeySource returns the RSA public key that I/O Events names by a key path
// header (x-adobe-public-key1-path, -2-path), such as
// "/prod/keys/pub-key-<uuid>.pem". The path comes from an unauthenticated
// request: implementations must not let it choose where a key is read from.
// Errors wrap models.ErrUnauthorized, and also models.ErrUnavailable when a
// retry may succeed.
type KeySource interface {
	PublicKey(ctx context.Context, path string) (*rsa.PublicKey, error)
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
// that cannot reach static.adobeioevents.com. A file answers for the key path
// whose last element is the file's name: save
// https://static.adobeioevents.com/prod/keys/pub-key-<uuid>.pem as
// pub-key-<uuid>.pem. Adobe rotates its keys, so the files need updating when it
// does; KeyFetcher needs no such care.
type StaticKeys struct {
	keys map[string]*rsa.PublicKey // by file base name
}

// LoadKeyFiles reads the PEM files of every Adobe shop's public_key_files.
// The keys are Adobe's own, the same for every project, so one StaticKeys can
// serve all shops; the recipientclientid check ties a delivery to its shop.
func LoadKeyFiles(files ...string) (*StaticKeys, error) {
	s := &StaticKeys{keys: make(map[string]*rsa.PublicKey, len(files))}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("adobe: load public key: %w", err)
		}
		key, err := parseKey(data)
		if err != nil {
			return nil, fmt.Errorf("adobe: load public key %s: %w", f, err)
		}
		s.keys[path.Base(strings.ReplaceAll(f, `\`, "/"))] = key
	}
	return s, nil
}

// PublicKey returns the configured key whose file name is the path's last element.
func (s *StaticKeys) PublicKey(_ context.Context, keyPath string) (*rsa.PublicKey, error) {
	if err := checkKeyPath(keyPath); err != nil {
		return nil, fmt.Errorf("adobe: key %q: %w: %w", keyPath, err, models.ErrUnauthorized)
	}
	key, ok := s.keys[path.Base(keyPath)]
	if !ok {
		return nil, fmt.Errorf("adobe: key %q is not among the configured public_key_files: %w", keyPath, models.ErrUnauthorized)
	}
	return key, nil
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
// fetch is bounded by its own timeout, since plugin.Receiver.Verify carries no
// context.
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

// PublicKey returns the key at keyPath, from the cache while it is fresh.
func (f *KeyFetcher) PublicKey(ctx context.Context, keyPath string) (*rsa.PublicKey, error) {
	if err := checkKeyPath(keyPath); err != nil {
		return nil, fmt.Errorf("adobe: key %q: %w: %w", keyPath, err, models.ErrUnauthorized)
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
