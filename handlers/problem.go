package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/treue/treue/models"
)

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []models.FieldError `json:"errors,omitempty"`
}

// problemType names a kind of problem; README "Errors" lists them.
func problemType(slug string) string { return "urn:treue:problem:" + slug }

// writeProblem answers with application/problem+json and stops the chain.
func writeProblem(c *gin.Context, p Problem) {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	p.Instance = c.Request.URL.Path
	p.RequestID = c.GetString(ctxRequestID)
	// Gin only sets Content-Type when it is empty, so set ours first.
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(p.Status, p)
}

// serveProblem is writeProblem for a plain net/http handler mounted in the
// engine (the console). The requestID middleware has already put the request
// id into the response header.
func serveProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	p.Instance = r.URL.Path
	p.RequestID = w.Header().Get("X-Request-Id")
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	if r.Method != http.MethodHead {
		json.NewEncoder(w).Encode(p)
	}
}

// writeError maps an error onto a problem. Internal errors are logged once,
// with the request id, and shown to the client only as a generic message.
func (s *server) writeError(c *gin.Context, err error) {
	var ve *models.ValidationError
	var me *models.MalformedError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil:
		// The client went away; nobody reads this answer, and it is no fault of ours.
		s.log.DebugContext(c.Request.Context(), "client gone", "request_id", c.GetString(ctxRequestID), "path", c.Request.URL.Path)
		writeProblem(c, Problem{Type: problemType("client-closed"), Title: "Client Closed Request", Status: 499, Detail: "The request was cancelled by the client."})
	case errors.As(err, &tooBig):
		writeProblem(c, Problem{Type: problemType("body-too-large"), Status: http.StatusRequestEntityTooLarge,
			Detail: "The request body is larger than the limit of " + itoa(tooBig.Limit) + " bytes (http.max_body_bytes)."})
	case errors.As(err, &me):
		writeProblem(c, Problem{Type: problemType("malformed-body"), Status: http.StatusBadRequest, Detail: me.Error()})
	case errors.As(err, &ve):
		writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
			Detail: ve.Error(), Errors: ve.Fields})
	case errors.Is(err, models.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded):
		s.log.WarnContext(c.Request.Context(), "unavailable", "request_id", c.GetString(ctxRequestID), "err", err)
		// Shops retry on 5xx; Retry-After tells polite senders when.
		c.Header("Retry-After", "5")
		writeProblem(c, Problem{Type: problemType("unavailable"), Status: http.StatusServiceUnavailable,
			Detail: "Treue cannot store this right now; please retry."})
	case errors.Is(err, models.ErrUnauthorized):
		s.log.InfoContext(c.Request.Context(), "unauthorized", "request_id", c.GetString(ctxRequestID), "path", c.Request.URL.Path, "reason", err.Error())
		writeProblem(c, Problem{Type: problemType("unauthorized"), Status: http.StatusUnauthorized,
			Detail: "The request could not be authenticated."})
	case errors.Is(err, models.ErrForbidden):
		writeProblem(c, Problem{Type: problemType("forbidden"), Status: http.StatusForbidden, Detail: err.Error()})
	case errors.Is(err, models.ErrNotFound):
		writeProblem(c, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: err.Error()})
	case errors.Is(err, models.ErrDuplicate), errors.Is(err, models.ErrConflict):
		writeProblem(c, Problem{Type: problemType("conflict"), Status: http.StatusConflict, Detail: err.Error()})
	case errors.Is(err, models.ErrInvalid):
		writeProblem(c, Problem{Type: problemType("validation"), Status: http.StatusBadRequest, Detail: err.Error()})
	default:
		s.log.ErrorContext(c.Request.Context(), "internal error", "request_id", c.GetString(ctxRequestID), "path", c.Request.URL.Path, "err", err)
		writeProblem(c, Problem{Type: problemType("internal"), Status: http.StatusInternalServerError,
			Detail: "Internal error; the request id identifies it in Treue's log."})
	}
}
