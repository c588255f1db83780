package dispatch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/shopware"
	"github.com/treue/treue/plugin/standard"
)

// TestDispatcher_StoredURLsAreGuarded: a URL read from the database when a
// shop is loaded for dispatch (a shop's API base, its notify_url) is held to
// the rules a configured one is, by the shared client itself: credentials,
// metadata host names and IPv4 in a non-canonical form end the action dead
// with the reason, and the server behind them is never reached, even with
// its address in allow_hosts.
func TestDispatcher_StoredURLsAreGuarded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Write([]byte(`{"ok":true}`))
		}))
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		client := egress.NewClient(egress.Options{AllowHosts: []string{"127.0.0.0/8", "metadata.google.internal", "2130706433"}})
		e := newDispatchEnv(t, driver, false)
		d := e.dispatcher(e.st, "A", map[string]plugin.Connector{models.ConnectorShopware: shopware.NewConnector(client)})
		d.Notify = standard.NewNotifier(client)

		for _, tt := range []struct {
			key, connector, url, reason string
		}{
			{"creds", models.ConnectorShopware, "http://user:pw@" + u.Host, "credentials in the URL (user:password@) are not allowed"},
			{"decimal", models.ConnectorShopware, "http://2130706433:" + u.Port(), "2130706433 is not an IP address in canonical form"},
			{"metadata", models.ConnectorNotify, "http://metadata.google.internal:" + u.Port() + "/hook", "metadata.google.internal is a cloud metadata endpoint"},
			{"short", models.ConnectorNotify, "http://127.1:" + u.Port() + "/hook", "127.1 is not an IP address in canonical form"},
		} {
			sh := e.shop(tt.key, models.PlatformStandard)
			sh.Connector, sh.URL, sh.Secrets.NotifyURL = tt.connector, tt.url, tt.url
			sh.Secrets.APIKey, sh.Secrets.APISecret = "SWIA-key", "api-secret"
			if err := e.st.SaveShop(ctx, sh); err != nil {
				t.Fatal(err)
			}
			// A customer Shopware's connector can address, so that it gets as
			// far as its first request.
			err := e.st.InTx(ctx, func(tx *store.Store) error {
				id, _, err := tx.ResolveCustomer(ctx, sh.ID, models.CustomerRef{ID: "0190f3c2a1b24c5d8e9f0a1b2c3d4e5f"})
				e.cust[sh.ID] = id
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			a := e.action(sh, models.ActionTagCustomer, map[string]any{"tag": "vip"})
			dispatchOnce(t, d, 1)
			got := e.get(a.ID)
			if got.Status != models.ActionDead || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("shop %s (%s): action %s %q, want dead saying %q", tt.key, tt.url, got.Status, got.Reason, tt.reason)
			}
			if strings.Contains(got.Reason, "pw@") {
				t.Errorf("shop %s: the reason repeats the password: %q", tt.key, got.Reason)
			}
		}
		if n := hits.Load(); n != 0 {
			t.Fatalf("refused URLs reached the server %d times", n)
		}

		// The same server under its canonical address is called.
		ok := e.shop("ok", models.PlatformStandard)
		ok.Connector, ok.Secrets.NotifyURL = models.ConnectorNotify, srv.URL+"/hook"
		if err := e.st.SaveShop(ctx, ok); err != nil {
			t.Fatal(err)
		}
		a := e.action(ok, models.ActionTagCustomer, map[string]any{"tag": "vip"})
		dispatchOnce(t, d, 1)
		if got := e.get(a.ID); got.Status != models.ActionSent || hits.Load() != 1 {
			t.Fatalf("a canonical URL: action %s %q, %d hits", got.Status, got.Reason, hits.Load())
		}
	})
}
