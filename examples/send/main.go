// Command send posts a canonical event to Treue signed as Standard Webhooks,
// the way a shop or Treue's Magento module does.
//
//	go run ./examples/send -shop demo -secret whsec_… plugin/standard/testdata/order.placed.json
//
// It posts to -url, by default the address in TREUE_HTTP_ADDR (as for
// `treue serve`), else http://localhost:8080.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/treue/treue/config"
	"github.com/treue/treue/plugin/standard"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the program with its environment made explicit, for the test.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: send [flags] EVENT.json")
		fs.PrintDefaults()
	}
	url := fs.String("url", defaultURL(getenv), "Treue base `URL` (default from TREUE_HTTP_ADDR, where treue serve listens)")
	shop := fs.String("shop", "demo", "shop key")
	secret := fs.String("secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "the shop's Standard Webhooks secret (whsec_ + base64; the prefix is optional)")
	id := fs.String("id", "", "webhook-id (default: a new uuid; reuse one to see deduplication)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	status, err := send(stdout, *url, *shop, *secret, *id, fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "send:", err)
		return 1
	}
	if status >= 300 {
		return 1
	}
	return 0
}

// defaultURL is where a Treue started in the same environment listens: the
// quickstart's port unless TREUE_HTTP_ADDR moves it.
func defaultURL(getenv func(string) string) string {
	addr := getenv("TREUE_HTTP_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	return config.ClientURL(addr)
}

// send posts file and prints the answer; it answers the HTTP status.
func send(stdout io.Writer, base, shop, secret, id, file string) (int, error) {
	body, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	key, err := standard.DecodeSecret(secret)
	if err != nil {
		return 0, fmt.Errorf("-secret %w", err)
	}
	if id == "" {
		id = "msg_" + uuid.NewString()
	}
	ts := time.Now().Unix()
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/standard/"+shop, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", standard.SignatureHeader(key, id, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	fmt.Fprintf(stdout, "%s %s\n", resp.Status, out)
	return resp.StatusCode, nil
}
