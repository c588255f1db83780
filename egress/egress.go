// Package egress is Treue's one way out to the network. NewClient returns an
// *http.Client with timeouts that refuses, at dial time, to connect to loopback,
// private, link-local and other internal addresses, so that a shop URL, a notify
// URL or a DNS answer cannot point Treue at its own network (SSRF). Do turns
// one HTTP exchange into an attempt-log summary; plugin/shopcall classifies
// a failed one for the connectors. egress knows nothing of the connector
// contract: the dependency points from the connectors down to it.
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
	// AllowHosts are explicit exceptions: host names as written in URLs
	// (case-insensitive), IP addresses, or CIDR prefixes. Example: "127.0.0.1"
	// for a fake shop in tests. They never unblock a cloud metadata endpoint
	// (169.254.169.254, fd00:ec2::254, metadata.google.internal, …), not even
	// through a CIDR that contains it or a name that resolves to it.
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
	// Private is true when Options.AllowPrivate would permit the address, so
	// a caller can say which setting to change.
	Private bool
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("egress: %s is %s: destination not allowed", e.Addr, e.Reason)
}

// Is makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

// URLError is a URL refused for its form rather than for its address.
type URLError struct {
	URL    string // redacted: scheme, host and path
	Reason string
}

func (e *URLError) Error() string { return "egress: " + e.URL + ": " + e.Reason }

// Is makes errors.Is(err, ErrBlocked) true.
func (e *URLError) Is(target error) bool { return target == ErrBlocked }

type blockedRange struct {
	prefix netip.Prefix
	reason string
}

const metadataReason = "a cloud metadata endpoint"

var (
	// metadata lists the cloud metadata and host-agent endpoints. They hand
	// out the machine's credentials to whoever asks from inside, so nothing
	// unblocks them: not AllowPrivate, and not an AllowHosts entry, which is
	// usually a CIDR written for a private network (169.254.0.0/16, fd00::/8)
	// and must not open these on the way.
	metadata = []blockedRange{
		{netip.MustParsePrefix("169.254.169.254/32"), metadataReason}, // AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean, Hetzner
		{netip.MustParsePrefix("169.254.170.2/32"), metadataReason},   // AWS ECS task metadata
		{netip.MustParsePrefix("169.254.170.23/32"), metadataReason},  // AWS EKS Pod Identity
		{netip.MustParsePrefix("169.254.0.23/32"), metadataReason},    // Tencent Cloud
		{netip.MustParsePrefix("100.100.100.200/32"), metadataReason}, // Alibaba Cloud
		{netip.MustParsePrefix("168.63.129.16/32"), metadataReason},   // Azure WireServer (host agent)
		{netip.MustParsePrefix("fd00:ec2::254/128"), metadataReason},  // AWS IMDS over IPv6
		{netip.MustParsePrefix("fd00:ec2::23/128"), metadataReason},   // AWS EKS Pod Identity over IPv6
	}
	// metadataNames are the names those endpoints go by. They are refused
	// before any DNS lookup: a resolver inside the cloud answers them with
	// the addresses above, and one outside could answer anything.
	metadataNames = map[string]bool{
		"metadata.google.internal": true, "metadata.goog": true, "metadata": true, // GCP
		"instance-data": true, "instance-data.ec2.internal": true, // AWS
		"metadata.tencentyun.com": true, // Tencent Cloud
	}
	// Never a shop. AllowPrivate does not permit them; an AllowHosts entry
	// naming them does (a test that dials 0.0.0.0).
	reserved = []blockedRange{
		{netip.MustParsePrefix("0.0.0.0/8"), "in this-network 0.0.0.0/8"},
		{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4, broadcast)"},
	}
	// Internal ranges that netip.Addr has no predicate for; AllowPrivate permits them.
	internal = []blockedRange{
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

// CheckAllowHost validates one Options.AllowHosts entry: a host name, an IP
// address or a CIDR prefix. An entry that names a metadata endpoint is
// refused rather than ignored, so that the operator learns it has no effect;
// one that reads as an IP address in a form other than a.b.c.d ("127.1") is
// refused because Treue would otherwise look it up as a name.
func CheckAllowHost(h string) error {
	h = strings.TrimSpace(h)
	if h == "" {
		return errors.New("egress: empty host")
	}
	if _, err := netip.ParsePrefix(h); err == nil {
		return nil
	}
	if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return neverAllowed(a.WithZone("").Unmap())
	}
	if strings.ContainsAny(h, "/:[]@ ") {
		return fmt.Errorf("egress: %q is neither a host name, an IP address nor a CIDR prefix", h)
	}
	return checkHostName(h)
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

// embeddedIPv4 returns the IPv4 address that a NAT64 or 6to4 address reaches
// through its gateway.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFo.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// neverAllowed refuses the metadata endpoints, also in the IPv6 forms that
// carry them. a is unmapped and without zone.
func neverAllowed(a netip.Addr) error {
	if v4, ok := embeddedIPv4(a); ok {
		a = v4
	}
	for _, r := range metadata {
		if r.prefix.Contains(a) {
			return &BlockedError{Addr: a.String(), Reason: r.reason}
		}
	}
	return nil
}

// check decides about one resolved address.
func (p policy) check(a netip.Addr) error {
	a = a.WithZone("").Unmap()
	if err := neverAllowed(a); err != nil {
		return err
	}
	return p.checkAllowable(a)
}

// checkAllowable decides about an address that is not a metadata endpoint.
func (p policy) checkAllowable(a netip.Addr) error {
	if p.listed(a) {
		return nil
	}
	// IPv6 forms that carry an IPv4 address reach that address through a gateway.
	if v4, ok := embeddedIPv4(a); ok {
		return p.checkAllowable(v4)
	}
	blocked := func(reason string) error { return &BlockedError{Addr: a.String(), Reason: reason} }
	switch {
	case a.IsUnspecified():
		return blocked("unspecified")
	case a.IsMulticast():
		return blocked("multicast")
	}
	for _, r := range reserved {
		if r.prefix.Contains(a) {
			return blocked(r.reason)
		}
	}
	if p.allowPrivate {
		return nil
	}
	private := func(reason string) error { return &BlockedError{Addr: a.String(), Reason: reason, Private: true} }
	switch {
	case a.IsLoopback():
		return private("loopback")
	case a.IsPrivate():
		return private("private (RFC 1918 / unique local)")
	case a.IsLinkLocalUnicast():
		return private("link-local")
	}
	for _, r := range internal {
		if r.prefix.Contains(a) {
			return private(r.reason)
		}
	}
	return nil
}

// checkHost refuses, before any DNS lookup, a host (as written in a URL,
// without brackets) that names a metadata endpoint or that reads as an IPv4
// address in a form other than a.b.c.d. The address a host resolves to is
// checked at dial time.
func checkHost(host string) error {
	if a, err := netip.ParseAddr(host); err == nil {
		return neverAllowed(a.WithZone("").Unmap())
	}
	return checkHostName(host)
}

// checkHostName is checkHost for a host that is not an IP literal.
func checkHostName(host string) error {
	h := normalizeHost(host)
	if metadataNames[h] {
		return &BlockedError{Addr: host, Reason: metadataReason}
	}
	if endsInNumber(h) {
		// "2130706433", "0x7f000001", "127.1" and "0177.0.0.1" are
		// 127.0.0.1 to curl, browsers and C resolvers, and a name to Go's:
		// refused, neither looked up in DNS nor guessed at.
		return &BlockedError{Addr: host, Reason: "not an IP address in canonical form (write IPv4 as four decimal numbers, a.b.c.d, without leading zeros)"}
	}
	return nil
}

// endsInNumber is the WHATWG URL standard's test for a host that is to be
// parsed as IPv4: its last label (a trailing dot aside) is decimal digits or
// 0x and hex digits. No DNS name ends so, as no top-level domain is numeric.
func endsInNumber(h string) bool {
	labels := strings.Split(strings.TrimSuffix(h, "."), ".")
	last := labels[len(labels)-1]
	if last == "" {
		return false
	}
	if hex, ok := strings.CutPrefix(strings.ToLower(last), "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// checkRequestURL is what every outgoing request must pass before it is
// dialled: http or https, a host, no user:password, and a host that passes
// checkHost.
func checkRequestURL(u *url.URL) error {
	refuse := func(reason string) error { return &URLError{URL: redactURL(u), Reason: reason} }
	if u.Scheme != "http" && u.Scheme != "https" {
		return refuse("scheme must be http or https")
	}
	if u.User != nil {
		// The client would send them as Basic auth to whatever the host
		// is; credentials belong in the shop's secrets, which are sealed.
		return refuse("credentials in the URL (user:password@) are not allowed")
	}
	host := u.Hostname()
	if host == "" {
		return refuse("no host")
	}
	return checkHost(host)
}

// guard checks each request's URL before the transport dials, so a URL read
// from the database (a shop's URL or notify_url, a rule's params.url) is held
// to what CheckURL asks of a configured one.
type guard struct{ next http.RoundTripper }

func (g guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkRequestURL(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, also on error
		}
		return nil, err
	}
	return g.next.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the transport.
func (g guard) CloseIdleConnections() {
	if c, ok := g.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// NewClient returns the shared outbound client. Each request's URL is checked
// first (see CheckURL: no credentials, no metadata host names, no IP address
// in a non-canonical form). The address check runs in net.Dialer.Control, on
// the address actually being connected to after DNS resolution, so a name
// that resolves (or re-resolves) to an internal address cannot slip through;
// a host named in AllowHosts skips it, except for the metadata endpoints,
// which no option unblocks. No proxy is used: the check would then only see
// the proxy. Redirects are not followed; Do returns ErrRedirect.
func NewClient(opts Options) *http.Client {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := newDialer(opts.policy(), min(timeout, 10*time.Second))
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.dial,
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
		Transport: guard{tr},
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			return fmt.Errorf("%w (to %s)", ErrRedirect, redactURL(req.URL))
		},
	}
}

// dialer connects after checking the address being connected to: checked
// for hosts that are no exception, named (metadata endpoints only) for hosts
// that AllowHosts names, whatever their name resolves to.
type dialer struct {
	p              policy
	checked, named net.Dialer
}

func newDialer(p policy, timeout time.Duration) *dialer {
	control := func(check func(netip.Addr) error) func(string, string, syscall.RawConn) error {
		return func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &BlockedError{Addr: address, Reason: "not an IP address"}
			}
			return check(ap.Addr())
		}
	}
	d := &dialer{p: p, checked: net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}}
	d.named = d.checked
	d.checked.Control = control(p.check)
	d.named.Control = control(func(a netip.Addr) error { return neverAllowed(a.WithZone("").Unmap()) })
	return d
}

func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &BlockedError{Addr: addr, Reason: "not host:port"}
	}
	if err := checkHost(host); err != nil {
		return nil, err
	}
	if d.p.nameAllowed(host) {
		return d.named.DialContext(ctx, network, addr)
	}
	return d.checked.DialContext(ctx, network, addr)
}

// CheckURL validates a configured or stored URL before it is used: scheme
// http or https, a host, no user:password, no metadata endpoint (by address
// or by name, whatever opts say), no IPv4 address in a non-canonical form
// ("127.1", "2130706433"), and a host that is not a blocked IP literal or a
// localhost name. It does not resolve DNS (config may be checked offline);
// the dial-time check in NewClient's client is the authoritative one.
func CheckURL(raw string, opts Options) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("egress: %q is not a URL: %w", raw, err)
	}
	if err := checkRequestURL(u); err != nil {
		return err
	}
	host := u.Hostname()
	p := opts.policy()
	if a, err := netip.ParseAddr(host); err == nil {
		return p.check(a)
	}
	if p.nameAllowed(host) {
		return nil
	}
	h := normalizeHost(host)
	if (h == "localhost" || strings.HasSuffix(h, ".localhost")) && !p.allowPrivate {
		return &BlockedError{Addr: host, Reason: "loopback", Private: true}
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
