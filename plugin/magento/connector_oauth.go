package magento

import (
	"crypto/hmac"
	"encoding/base64"
	"hash"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// OAuth 1.0a request signing (RFC 5849), as Magento checks it for integration
// tokens: HMAC-SHA256 over the signature base string, keyed with
// consumerSecret&tokenSecret. Since 2.4.4 Magento refuses integration access
// tokens as plain bearer tokens unless the merchant allows it, so this is the
// default way in.

// oauthCredentials are a Magento integration's four secrets.
type oauthCredentials struct {
	ConsumerKey, ConsumerSecret, Token, TokenSecret string
}

// oauthHeader returns the Authorization header for a request to u. Query
// parameters are signed; the JSON body is not (RFC 5849 signs only
// application/x-www-form-urlencoded bodies).
func oauthHeader(method string, u *url.URL, cred oauthCredentials, sigMethod string, newHash func() hash.Hash, nonce string, ts int64) string {
	params := [][2]string{
		{"oauth_consumer_key", cred.ConsumerKey},
		{"oauth_nonce", nonce},
		{"oauth_signature_method", sigMethod},
		{"oauth_timestamp", strconv.FormatInt(ts, 10)},
		{"oauth_token", cred.Token},
		{"oauth_version", "1.0"},
	}
	base := oauthBaseString(method, u, params)
	sig := oauthSignature(newHash, cred.ConsumerSecret, cred.TokenSecret, base)
	var b strings.Builder
	b.WriteString("OAuth ")
	for _, p := range append(params, [2]string{"oauth_signature", sig}) {
		if b.Len() > len("OAuth ") {
			b.WriteString(", ")
		}
		b.WriteString(percentEncode(p[0]) + `="` + percentEncode(p[1]) + `"`)
	}
	return b.String()
}

// oauthSignature is base64(HMAC(consumerSecret&tokenSecret, base)) (RFC 5849 §3.4.2).
func oauthSignature(newHash func() hash.Hash, consumerSecret, tokenSecret, base string) string {
	m := hmac.New(newHash, []byte(percentEncode(consumerSecret)+"&"+percentEncode(tokenSecret)))
	m.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// oauthBaseString builds the signature base string (RFC 5849 §3.4.1): the
// method, the base string URI and the normalized parameters (the query's and
// extra ones such as oauth_* or form fields), each percent-encoded.
func oauthBaseString(method string, u *url.URL, extra [][2]string) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		host = "[" + host + "]"
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	baseURI := scheme + "://" + host + path

	// Query parameters are decoded as a form (so "+" is a space) and encoded anew.
	var pairs [][2]string
	q, _ := url.ParseQuery(u.RawQuery)
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, [2]string{percentEncode(k), percentEncode(v)})
		}
	}
	for _, p := range extra {
		pairs = append(pairs, [2]string{percentEncode(p[0]), percentEncode(p[1])})
	}
	// Sorted by encoded name, then value, in byte order (§3.4.1.3.2).
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	joined := make([]string, len(pairs))
	for i, p := range pairs {
		joined[i] = p[0] + "=" + p[1]
	}
	return strings.ToUpper(method) + "&" + percentEncode(baseURI) + "&" + percentEncode(strings.Join(joined, "&"))
}

// percentEncode is RFC 3986 encoding as RFC 5849 §3.6 demands: everything
// but ALPHA, DIGIT, "-", ".", "_" and "~" becomes %XX (upper-case hex) of its
// UTF-8 bytes. url.QueryEscape differs (space as "+", "~" escaped).
func percentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
