package handlers

import (
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// acceptedJSON is what requireJSON answers a request that sent something else.
const acceptedJSON = "application/json, application/*+json"

// isJSON reports whether a Content-Type names JSON: application/json, or a
// type with the +json structured syntax suffix (RFC 6839), such as Adobe I/O
// Events' application/cloudevents+json. Parameters (charset) do not matter.
//
// A missing Content-Type is not JSON. Every sender Treue receives from sets
// it: Shopify, Shopware and Svix send application/json, Adobe I/O Events
// application/cloudevents+json or application/json, the Magento module and
// examples/send application/json (shared/platforms/*.md). A body that says
// nothing about itself comes from a hand-written sender (Go's http.Client
// and curl -d set no JSON type on their own), whose author is better told at
// setup time than left with deliveries that look like the shop's fault.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	sub, ok := strings.CutPrefix(mt, "application/")
	return ok && (sub == "json" || strings.HasSuffix(sub, "+json"))
}

// requireJSON answers 415 problem+json, naming the accepted types, unless the
// request's body is declared JSON; it reports whether the request may go on.
// It runs before the body is read or any signature is checked: a sender
// with the wrong type learns it on its first delivery, whatever else is wrong.
func requireJSON(c *gin.Context) bool {
	ct := c.GetHeader("Content-Type")
	if isJSON(ct) {
		return true
	}
	got := "no Content-Type"
	if ct != "" {
		got = "Content-Type " + ct
	}
	c.Header("Accept-Post", acceptedJSON)
	writeProblem(c, Problem{Type: problemType("unsupported-media-type"), Status: http.StatusUnsupportedMediaType,
		Detail: "The body must be JSON, sent as Content-Type application/json or another application/*+json type (such as application/cloudevents+json); this request has " + got + "."})
	return false
}
