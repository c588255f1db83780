package handlers

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// A declared length sizes the buffer only up to 64 KiB: a sender that
// declares megabytes and sends two bytes does not make the server allocate
// megabytes. The body read is still the whole body.
func TestReadBody_DeclaredLengthIsNotTrusted(t *testing.T) {
	s := &server{Config: Config{MaxBodyBytes: 8 << 20}}
	for _, tt := range []struct {
		declared int64
		body     string
	}{{8 << 20, "ok"}, {-1, "ok"}, {70 << 10, strings.Repeat("x", 70<<10)}} {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
		c.Request.ContentLength = tt.declared
		body, err := s.readBody(c)
		if err != nil || string(body) != tt.body {
			t.Fatalf("declared %d: %d bytes, %v", tt.declared, len(body), err)
		}
		if tt.declared > 64<<10 && len(tt.body) < 64<<10 && cap(body) > 64<<10+bytes.MinRead {
			t.Fatalf("declared %d, sent %d: buffer of %d bytes", tt.declared, len(body), cap(body))
		}
	}
}
