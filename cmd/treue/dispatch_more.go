package main

import (
	"net/http"

	"github.com/treue/treue/webhooks"
)

// addConnectors adds the connectors still being written.
func addConnectors(d *webhooks.Dispatcher, client *http.Client) {}
