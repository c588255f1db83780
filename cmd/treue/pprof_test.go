package main

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
)

func TestServePprof(t *testing.T) {
	addr, stop, err := servePprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	res, err := http.Get("http://" + addr.String() + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("status %d, body %q", res.StatusCode, body)
	}
	if _, _, err := servePprof(addr.String(), slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a taken address must be refused")
	}
}
