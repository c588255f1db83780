// Command send posts a canonical event to Treue signed as Standard Webhooks,
// the way a shop or Treue's Magento module does.
//
//	go run ./examples/send -shop demo -secret whsec_… plugin/standard/testdata/order.placed.json
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/treue/treue/plugin/standard"
)

func main() {
	url := flag.String("url", "http://localhost:8080", "Treue base URL")
	shop := flag.String("shop", "demo", "shop key")
	secret := flag.String("secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "the shop's Standard Webhooks secret (whsec_ + base64; the prefix is optional)")
	id := flag.String("id", "", "webhook-id (default: a new uuid; reuse one to see deduplication)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: send [flags] EVENT.json")
		os.Exit(2)
	}
	if err := send(*url, *shop, *secret, *id, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "send:", err)
		os.Exit(1)
	}
}

func send(base, shop, secret, id, file string) error {
	body, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	key, err := standard.DecodeSecret(secret)
	if err != nil {
		return fmt.Errorf("-secret %w", err)
	}
	if id == "" {
		id = "msg_" + uuid.NewString()
	}
	ts := time.Now().Unix()
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/standard/"+shop, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", standard.SignatureHeader(key, id, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s %s\n", resp.Status, out)
	if resp.StatusCode >= 300 {
		os.Exit(1)
	}
	return nil
}
