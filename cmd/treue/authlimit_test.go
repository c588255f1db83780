package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/treue/treue/plugin/standard"
)

// TestWebhook_AuthFailuresRateLimited: through `treue serve` on both
// databases, an address past http.auth_failure_burst failed authentications
// is answered 429 with Retry-After, for made-up shops and forged signatures
// alike, while the shop's own correctly signed deliveries from that address
// are still stored.
func TestWebhook_AuthFailuresRateLimited(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		e.env["TREUE_HTTP_AUTH_FAILURE_BURST"] = "3"
		e.env["TREUE_HTTP_AUTH_FAILURE_RATE"] = "0.01"
		in := e.serve(t)
		forged, _ := standard.DecodeSecret("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		good, _ := standard.DecodeSecret(acmeSecret)
		for i := range 3 {
			if code := postSigned(t, in.URL+"/webhooks/standard/acme", forged, "msg_forged_"+strconv.Itoa(i)); code != http.StatusUnauthorized {
				t.Fatalf("forged delivery %d: %d, want 401", i+1, code)
			}
		}
		for _, shop := range []string{"acme", "nobody", "made-up"} {
			req, _ := http.NewRequest("POST", in.URL+"/webhooks/standard/"+shop, nil)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "100" || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("unsigned delivery for %s from the limited address: %d, Retry-After %q", shop, resp.StatusCode, resp.Header.Get("Retry-After"))
			}
		}
		for i := range 5 {
			if code := postSigned(t, in.URL+"/webhooks/standard/acme", good, "msg_good_"+strconv.Itoa(i)); code != http.StatusOK {
				t.Fatalf("the shop's own delivery %d from the limited address: %d, want 200", i+1, code)
			}
		}
		st := e.store(t)
		shop, err := st.ShopByKey(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.InboxByDelivery(context.Background(), shop.ID, "msg_good_4"); err != nil {
			t.Fatalf("the shop's delivery was not stored: %v", err)
		}
		if !strings.Contains(in.Logs.String(), "webhook authentications from one address keep failing") {
			t.Error("no warning about the address in the log")
		}
	})
}
