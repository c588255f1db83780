// Package shopcall turns a failed call into a shop (an egress exchange) into
// the connector contract's *plugin.Error with a retry class, so that every
// connector classifies failures alike.
package shopcall

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/plugin"
)

// Failure classifies a failed exchange as a *plugin.Error. err is the transport
// error, if any; otherwise r is a non-2xx answer. detail is the shop's own
// error text, already trimmed of anything secret, or "".
//
//   - destination blocked, redirect, other 4xx, 3xx: Permanent
//   - timeout, connection or DNS failure, 408, 409, 425, 429, 5xx: Transient
//   - 429 and 503 carry RetryAfter from the Retry-After header
func Failure(r *egress.Response, err error, now time.Time, detail string) *plugin.Error {
	msg := ""
	if r != nil {
		msg = r.Exchange.String()
	}
	if detail != "" {
		msg += ": " + detail
	}
	if err != nil {
		// *url.Error repeats the whole URL, query string included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		kind := plugin.Transient
		if errors.Is(err, egress.ErrBlocked) || errors.Is(err, egress.ErrRedirect) {
			kind = plugin.Permanent
		}
		status := 0
		if r != nil {
			status = r.Status
		}
		if r == nil {
			msg = err.Error() + msg
		}
		return &plugin.Error{Kind: kind, StatusCode: status, Err: &described{msg, err}}
	}
	e := &plugin.Error{Kind: plugin.Permanent, StatusCode: r.Status, Err: errors.New(msg)}
	if egress.Retryable(r.Status) {
		e.Kind = plugin.Transient
	}
	if r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable {
		e.RetryAfter = egress.RetryAfter(r.Header, now)
	}
	return e
}

// described is a transport error whose text is the exchange summary (which
// already names the cause) and which still matches the cause with errors.Is.
type described struct {
	msg string
	err error
}

func (d *described) Error() string { return d.msg }
func (d *described) Unwrap() error { return d.err }
