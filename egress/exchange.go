package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxBody caps how much of a response Do reads: shop APIs answer with small
// JSON, and a hostile or broken endpoint must not fill memory.
const MaxBody = 4 << 20

// MaxRetryAfter caps a Retry-After the dispatcher is asked to honour.
const MaxRetryAfter = 24 * time.Hour

// Exchange summarizes one HTTP round trip for the attempt log. It holds no
// headers, query string or body, so it carries neither credentials nor the
// e-mail addresses some searches put in the query.
type Exchange struct {
	Method   string
	URL      string // scheme://host/path
	Status   int    // 0 when no answer came
	Duration time.Duration
	Err      string // transport error, if any
}

func (e Exchange) String() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.URL)
	if e.Status != 0 {
		b.WriteString(" -> ")
		b.WriteString(strconv.Itoa(e.Status))
	}
	if e.Err != "" {
		b.WriteString(" -> error: ")
		b.WriteString(e.Err)
	}
	fmt.Fprintf(&b, " (%s)", e.Duration.Round(time.Millisecond))
	return b.String()
}

// Response is a completed exchange with its body read.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte
	Exchange Exchange
}

// OK reports a 2xx answer.
func (r *Response) OK() bool { return r != nil && r.Status >= 200 && r.Status < 300 }

// Do sends req and reads at most MaxBody bytes of the answer. A transport error
// is returned as is, with a Response that still holds the Exchange (and the
// status, for a refused redirect).
func Do(client *http.Client, req *http.Request) (*Response, error) {
	start := time.Now()
	r := &Response{Exchange: Exchange{Method: req.Method, URL: redactURL(req.URL)}}
	resp, err := client.Do(req)
	if resp != nil {
		r.Status, r.Header = resp.StatusCode, resp.Header
		r.Exchange.Status = resp.StatusCode
		if err == nil {
			r.Body, err = io.ReadAll(io.LimitReader(resp.Body, MaxBody))
		}
		resp.Body.Close()
	}
	r.Exchange.Duration = time.Since(start)
	if err != nil {
		r.Exchange.Err = transportMessage(err)
	}
	return r, err
}

// transportMessage shortens a *url.Error ("Post \"https://…?query\": …") to its
// cause, so the logged text never repeats the query string.
func transportMessage(err error) string {
	var blocked *BlockedError
	switch {
	case errors.As(err, &blocked):
		return blocked.Error()
	case errors.Is(err, ErrRedirect):
		return ErrRedirect.Error()
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// Retryable reports whether an HTTP status is worth retrying: the request may
// succeed later without any change on Treue's side.
func Retryable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}

// RetryAfter reads a Retry-After header, in seconds or as an HTTP date, relative
// to now. Absent, malformed or past values give 0; values are capped at
// MaxRetryAfter.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	// Seconds; Shopify writes them with a fraction ("2.0"), which is rounded up.
	if secs, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(secs) {
		if secs <= 0 {
			return 0
		}
		if secs >= MaxRetryAfter.Seconds() {
			return MaxRetryAfter
		}
		d = time.Duration(math.Ceil(secs)) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, MaxRetryAfter))
}

// Truncate shortens a shop's error text for a log line.
func Truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
