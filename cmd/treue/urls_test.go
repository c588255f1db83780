package main

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/treue/treue/models"
)

// shopsOfEveryPlatform extends the test config's shops (acme, standard).
const shopsOfEveryPlatform = `  - key: acme-us
    platform: shopify
    domain: acme-us.myshopify.com
    secret: shpss_not-printed
  - key: acme-sw
    platform: shopware
    shopware_id: sw1
    secret: sw-not-printed
  - key: acme-eu
    platform: adobe
    client_id: io-client
`

// TestServe_LogsURLs: once listening, serve logs the console's URL and each
// configured shop's webhook URL, on http.public_url when it is set and on
// the listener's address otherwise, and no secret.
func TestServe_LogsURLs(t *testing.T) {
	for _, tt := range []struct {
		name, publicURL string
		base            func(listen string) string
	}{
		{"Listener", "", func(listen string) string { return "http://" + listen }},
		{"PublicURL", "https://treue.example.com/", func(string) string { return "https://treue.example.com" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "sqlite", shopsOfEveryPlatform)
			e.env["TREUE_HTTP_PUBLIC_URL"] = tt.publicURL
			in := e.serve(t)
			in.Stop(t)
			base := tt.base(strings.TrimPrefix(in.URL, "http://"))
			got := map[string]string{}
			for line := range strings.SplitSeq(in.Logs.String(), "\n") {
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) != nil {
					continue
				}
				switch rec["msg"] {
				case "treue listening":
					got["console"], _ = rec["console"].(string)
				case "shop webhook URL":
					got[rec["shop"].(string)], _ = rec["url"].(string)
				}
			}
			want := map[string]string{
				"console": base + "/console/",
				"acme":    base + "/webhooks/standard/acme",
				"acme-us": base + "/webhooks/shopify",
				"acme-sw": base + "/webhooks/shopware",
				"acme-eu": base + "/webhooks/adobe/acme-eu",
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s: logged %q, want %q", k, got[k], w)
				}
			}
			for _, secret := range []string{acmeSecret, "shpss_not-printed", "sw-not-printed"} {
				if strings.Contains(in.Logs.String(), secret) {
					t.Errorf("the log holds the secret %s", secret)
				}
			}
		})
	}
}

// TestHealthcheck_FollowsHTTPAddr: without a URL, healthcheck asks /readyz
// on the address http.addr names, not on a fixed :8080.
func TestHealthcheck_FollowsHTTPAddr(t *testing.T) {
	e := newEnv(t, "sqlite", "")
	in := e.serve(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(in.URL, "http://"))
	e.env["TREUE_HTTP_ADDR"] = ":" + port
	if out, err := e.run(t, "healthcheck"); err != nil || out != "ok\n" {
		t.Fatalf("healthcheck with http.addr :%s: %q %v", port, out, err)
	}
	// A port nothing listens on: unhealthy, naming what it asked.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := ln.Addr().String()
	ln.Close()
	e.env["TREUE_HTTP_ADDR"] = free
	if _, err := e.run(t, "healthcheck"); err == nil || !strings.Contains(err.Error(), "http://"+free+"/readyz") {
		t.Fatalf("healthcheck with nothing on %s: %v", free, err)
	}
	if out, err := e.run(t, "healthcheck", in.URL+"/readyz"); err != nil || out != "ok\n" {
		t.Fatalf("healthcheck URL: %q %v", out, err)
	}
}

// TestServe_WarnsOfRefusedStoredShopURL: a stored shop whose URL the dispatch
// settings refuse (saved before them, or under others) is named at start,
// with the field; the config's own shops were refused at load already.
func TestServe_WarnsOfRefusedStoredShopURL(t *testing.T) {
	e := newEnv(t, "sqlite", "")
	e.env["TREUE_DISPATCH_ENABLED"] = "true"
	if _, err := e.run(t, "migrate"); err != nil {
		t.Fatal(err)
	}
	st := e.store(t)
	sh := &models.Shop{Key: "lan", Platform: models.PlatformStandard, Name: "LAN", Timezone: "UTC", Currency: "EUR",
		URL: "https://shop.example", Connector: models.ConnectorNotify, Source: "cli"}
	sh.Secrets.Webhook = []string{acmeSecret}
	sh.Secrets.NotifyURL = "http://10.1.2.3/hook?token=not-for-the-log"
	if err := st.SaveShop(context.Background(), sh); err != nil {
		t.Fatal(err)
	}
	in := e.serve(t)
	logs := in.Logs.String()
	if !strings.Contains(logs, "shop URL refused by the dispatch settings") || !strings.Contains(logs, `"shop":"lan"`) ||
		!strings.Contains(logs, `"field":"notify_url"`) || !strings.Contains(logs, "10.1.2.3 is private") {
		t.Fatalf("no warning naming the shop and field:\n%s", logs)
	}
	if strings.Contains(logs, "not-for-the-log") || strings.Contains(logs, `"shop":"acme","field"`) {
		t.Fatalf("warned too much:\n%s", logs)
	}
}
