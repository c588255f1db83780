// Package egress is Treue's one way out to the network. NewClient returns an
// *http.Client with timeouts that refuses, at dial time, to connect to loopback,
// private, link-local and other internal addresses, so that a shop URL, a notify
// URL or a DNS answer cannot point Treue at its own network (SSRF). Do and
// Failure turn one HTTP exchange into an attempt-log summary and a
// *plugin.Error with a retry class, so every connector classifies alike.
package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeout bounds a whole request when Options.Timeout is zero. Standard
// Webhooks recommends 15-30 s for receivers; shop APIs answer well within it.
const DefaultTimeout = 20 * time.Second

// Options configures NewClient and CheckURL.
type Options struct {
	// Timeout bounds a whole request, reading the body included (default 20 s).
	Timeout time.Duration
	// AllowPrivate permits loopback, private (RFC 1918, fc00::/7), shared
	// (100.64.0.0/10) and link-local destinations, for shops on the same private
	// network. Cloud metadata endpoints, unspecified, multicast and reserved
	// addresses stay blocked.
	AllowPrivate bool
	// AllowHosts are explicit exceptions that are always permitted: host names as
	// written in URLs (case-insensitive), IP addresses, or CIDR prefixes. Example:
	// "127.0.0.1" for a fake shop in tests.
	AllowHosts []string
}

// ErrBlocked is matched (errors.Is) by every refused destination.
var ErrBlocked = errors.New("egress: destination not allowed")

// ErrRedirect is matched by a request that was answered with a redirect. The
// client follows none: a redirect could lead to a blocked host, and a shop API
// that redirects is misconfigured (http vs https, a moved base URL).
var ErrRedirect = errors.New("egress: redirect not followed")

// BlockedError names the address that was refused and why.
type BlockedError struct {
	Addr   string
	Reason string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("egress: %s is %s: destination not allowed", e.Addr, e.Reason)
}

// Is makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

var (
	// Never a shop, whatever the options say (AllowHosts can still name them).
	alwaysBlocked = []struct {
		prefix netip.Prefix
		reason string
	}{
		{netip.MustParsePrefix("169.254.169.254/32"), "a cloud metadata endpoint"}, // AWS, GCP, Azure, OpenStack
		{netip.MustParsePrefix("169.254.170.2/32"), "a cloud metadata endpoint"},   // AWS ECS task metadata
		{netip.MustParsePrefix("100.100.100.200/32"), "a cloud metadata endpoint"}, // Alibaba Cloud
		{netip.MustParsePrefix("fd00:ec2::254/128"), "a cloud metadata endpoint"},  // AWS IMDS over IPv6
		{netip.MustParsePrefix("0.0.0.0/8"), "in this-network 0.0.0.0/8"},
		{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4, broadcast)"},
	}
	// Internal ranges that netip.Addr has no predicate for; AllowPrivate permits them.
	internal = []struct {
		prefix netip.Prefix
		reason string
	}{
		{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (carrier-grade NAT)"},
		{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
		{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking space"},
	}
	nat64   = netip.MustParsePrefix("64:ff9b::/96")
	sixToFo = netip.MustParsePrefix("2002::/16")
)

// policy is Options compiled for lookups.
type policy struct {
	allowPrivate bool
	names        map[string]bool
	prefixes     []netip.Prefix
}

func (o Options) policy() policy {
	p := policy{allowPrivate: o.AllowPrivate, names: map[string]bool{}}
	for _, h := range o.AllowHosts {
		h = strings.TrimSpace(h)
		if pf, err := netip.ParsePrefix(h); err == nil {
			p.prefixes = append(p.prefixes, pf.Masked())
			continue
		}
		if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
			p.prefixes = append(p.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p.names[normalizeHost(h)] = true
	}
	return p
}

func normalizeHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// nameAllowed reports whether host (as written in the URL) is an explicit exception.
func (p policy) nameAllowed(host string) bool {
	if p.names[normalizeHost(host)] {
		return true
	}
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return p.listed(a.Unmap())
	}
	return false
}

func (p policy) listed(a netip.Addr) bool {
	for _, pf := range p.prefixes {
		if pf.Contains(a) {
			return true
		}
	}
	return false
}

// check decides about one resolved address.
func (p policy) check(a netip.Addr) error {
	a = a.WithZone("").Unmap()
	if p.listed(a) {
		return nil
	}
	// IPv6 forms that carry an IPv4 address reach that address through a gateway.
	if nat64.Contains(a) {
		b := a.As16()
		return p.check(netip.AddrFrom4([4]byte(b[12:16])))
	}
	if sixToFo.Contains(a) {
		b := a.As16()
		return p.check(netip.AddrFrom4([4]byte(b[2:6])))
	}
	blocked := func(reason string) error { return &BlockedError{Addr: a.String(), Reason: reason} }
	switch {
	case a.IsUnspecified():
		return blocked("unspecified")
	case a.IsMulticast():
		return blocked("multicast")
	}
	for _, r := range alwaysBlocked {
		if r.prefix.Contains(a) {
			return blocked(r.reason)
		}
	}
	if p.allowPrivate {
		return nil
	}
	switch {
	case a.IsLoopback():
		return blocked("loopback")
	case a.IsPrivate():
		return blocked("private (RFC 1918 / unique local)")
	case a.IsLinkLocalUnicast():
		return blocked("link-local")
	}
	for _, r := range internal {
		if r.prefix.Contains(a) {
			return blocked(r.reason)
		}
	}
	return nil
}

// NewClient returns the shared outbound client. The address check runs in
// net.Dialer.Control, on the address actually being connected to after DNS
// resolution, so a name that resolves (or re-resolves) to an internal address
// cannot slip through. No proxy is used: the check would then only see the
// proxy. Redirects are not followed; Do returns ErrRedirect.
func NewClient(opts Options) *http.Client {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	p := opts.policy()
	base := &net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	checked := *base
	checked.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &BlockedError{Addr: address, Reason: "not an IP address"}
		}
		return p.check(ap.Addr())
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err == nil && p.nameAllowed(host) {
			return base.DialContext(ctx, network, addr)
		}
		return checked.DialContext(ctx, network, addr)
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   min(timeout, 10*time.Second),
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			return fmt.Errorf("%w (to %s)", ErrRedirect, redactURL(req.URL))
		},
	}
}

// CheckURL validates a configured URL before it is used: scheme http or https,
// a host, no user:password, and a host that is not a blocked IP literal or a
// localhost name. It does not resolve DNS (config may be checked offline); the
// dial-time check in NewClient's client is the authoritative one.
func CheckURL(raw string, opts Options) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("egress: %q is not a URL: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("egress: %s: scheme must be http or https", redactURL(u))
	}
	if u.User != nil {
		return fmt.Errorf("egress: %s: credentials in the URL are not allowed", redactURL(u))
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("egress: %s: no host", redactURL(u))
	}
	p := opts.policy()
	if p.nameAllowed(host) {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return p.check(a)
	}
	h := normalizeHost(host)
	if (h == "localhost" || strings.HasSuffix(h, ".localhost")) && !p.allowPrivate {
		return &BlockedError{Addr: host, Reason: "loopback"}
	}
	return nil
}

// redactURL keeps scheme, host and path: query strings can carry tokens or
// e-mail addresses, and userinfo carries passwords.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}
