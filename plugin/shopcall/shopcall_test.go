package shopcall

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/plugin"
)

func TestFailure_Status(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		status     int
		retryAfter string
		kind       plugin.ErrorKind
		after      time.Duration
	}{
		{500, "", plugin.Transient, 0},
		{502, "", plugin.Transient, 0},
		{504, "", plugin.Transient, 0},
		{503, "120", plugin.Transient, 2 * time.Minute},
		{503, now.Add(90 * time.Second).Format(http.TimeFormat), plugin.Transient, 90 * time.Second},
		{429, "7", plugin.Transient, 7 * time.Second},
		{429, "", plugin.Transient, 0},
		{500, "30", plugin.Transient, 0}, // Retry-After only counts on 429/503
		{408, "", plugin.Transient, 0},
		{409, "", plugin.Transient, 0},
		{425, "", plugin.Transient, 0},
		{400, "", plugin.Permanent, 0},
		{401, "", plugin.Permanent, 0},
		{403, "", plugin.Permanent, 0},
		{404, "", plugin.Permanent, 0},
		{410, "", plugin.Permanent, 0},
		{422, "", plugin.Permanent, 0},
		{301, "", plugin.Permanent, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.retryAfter != "" {
			h.Set("Retry-After", tt.retryAfter)
		}
		r := &egress.Response{Status: tt.status, Header: h, Exchange: egress.Exchange{Method: "POST", URL: "https://shop.example/api", Status: tt.status}}
		e := Failure(r, nil, now, "bad thing")
		if e.Kind != tt.kind || e.RetryAfter != tt.after || e.StatusCode != tt.status {
			t.Errorf("status %d (Retry-After %q): got kind %v after %v status %d", tt.status, tt.retryAfter, e.Kind, e.RetryAfter, e.StatusCode)
		}
		if !strings.Contains(e.Error(), "bad thing") || !strings.Contains(e.Error(), "POST https://shop.example/api") {
			t.Errorf("message = %q", e.Error())
		}
	}
}

// TestFailure_Transport: a refused destination or a redirect is permanent
// (calling again changes nothing), a timeout or a lost connection transient;
// the message never repeats the URL's query string.
func TestFailure_Transport(t *testing.T) {
	ex := egress.Exchange{Method: "POST", URL: "https://shop.example/api", Status: 0}
	for _, c := range []struct {
		err  error
		kind plugin.ErrorKind
	}{
		{fmt.Errorf("dial: %w", egress.ErrBlocked), plugin.Permanent},
		{egress.ErrRedirect, plugin.Permanent},
		{context.DeadlineExceeded, plugin.Transient},
		{&url.Error{Op: "Post", URL: "https://shop.example/api?token=secret", Err: errors.New("connection reset by peer")}, plugin.Transient},
	} {
		e := Failure(&egress.Response{Exchange: ex}, c.err, time.Now(), "")
		if e.Kind != c.kind {
			t.Errorf("%v: kind %v, want %v", c.err, e.Kind, c.kind)
		}
		if strings.Contains(e.Error(), "secret") {
			t.Errorf("%v: the message leaks the query string: %s", c.err, e)
		}
	}
	if e := Failure(nil, egress.ErrBlocked, time.Now(), ""); e.Kind != plugin.Permanent || !errors.Is(e, egress.ErrBlocked) {
		t.Errorf("no response: %+v", e)
	}
}
