package shopware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
)

// TestRegistrar_EgressPolicy: a registering shop's URL is held to the
// dispatcher's outbound policy, so that a shop cannot point Treue's API calls
// at its own network; the refusal names the field and, for a private
// address, the settings that allow it.
func TestRegistrar_EgressPolicy(t *testing.T) {
	now := time.Date(2026, 6, 10, 8, 0, 0, 0, time.UTC)
	register := func(opts *egress.Options, shopURL string) (*memStore, error) {
		q := fmt.Sprintf("shop-id=New456&shop-url=%s&timestamp=%d", shopURL, now.Unix())
		h := http.Header{}
		h.Set("shopware-app-signature", hmacHex(testAppSecret, q))
		st := newMemStore()
		r := newRegistrar(st, &clock{t: now})
		r.Egress = opts
		_, err := r.Register(context.Background(), q, h)
		return st, err
	}
	refused := func(t *testing.T, st *memStore, err error, field string, want ...string) {
		t.Helper()
		var v *models.ValidationError
		if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != field {
			t.Fatalf("got %v, want a validation error on %s", err, field)
		}
		for _, w := range want {
			if !strings.Contains(v.Fields[0].Message, w) {
				t.Errorf("message %q does not say %q", v.Fields[0].Message, w)
			}
		}
		if st.saves != 0 {
			t.Error("a refused registration must not change the store")
		}
	}

	t.Run("OKPublic", func(t *testing.T) {
		if _, err := register(&egress.Options{}, testShopURL); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrLoopback", func(t *testing.T) {
		st, err := register(&egress.Options{}, "http://127.0.0.1:8000")
		refused(t, st, err, "shop-url", "loopback", "dispatch.allow_private")
	})
	t.Run("ErrLocalhostName", func(t *testing.T) {
		st, err := register(&egress.Options{}, "http://localhost:8000")
		refused(t, st, err, "shop-url", "loopback")
	})
	t.Run("ErrCredentials", func(t *testing.T) {
		st, err := register(&egress.Options{}, "https://admin:pw@shop.example")
		refused(t, st, err, "shop-url", "credentials")
	})
	t.Run("ErrMetadataEvenIfPrivateAllowed", func(t *testing.T) {
		st, err := register(&egress.Options{AllowPrivate: true}, "http://169.254.169.254")
		refused(t, st, err, "shop-url", "metadata")
	})
	t.Run("OKAllowedHost", func(t *testing.T) {
		if _, err := register(&egress.Options{AllowHosts: []string{"127.0.0.1"}}, "http://127.0.0.1:8000"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKPrivateAllowed", func(t *testing.T) {
		if _, err := register(&egress.Options{AllowPrivate: true}, "http://10.0.0.5"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKNoPolicy", func(t *testing.T) {
		if _, err := register(nil, "http://127.0.0.1:8000"); err != nil {
			t.Fatal(err)
		}
	})

	// A registration stored without its URL takes the confirmation's, which
	// is held to the same policy.
	t.Run("ErrConfirmationURL", func(t *testing.T) {
		st := newMemStore()
		const pending = "pending-secret-for-the-confirmation"
		_ = st.SaveShop(context.Background(), &models.Shop{Key: "sw-new456", Platform: models.PlatformShopware, ExternalID: "New456",
			Secrets: models.ShopSecrets{Pending: pending}})
		before := st.saves
		b, h := confirmation("New456", now, pending, "")
		body := []byte(strings.Replace(string(b), `https:\/\/shop.example`, `http:\/\/192.168.1.10`, 1))
		h.Set("shopware-shop-signature", hmacHex(pending, string(body)))
		r := newRegistrar(st, &clock{t: now})
		r.Egress = &egress.Options{}
		err := r.Confirm(context.Background(), h, body)
		var v *models.ValidationError
		if !errors.As(err, &v) || v.Fields[0].Field != "shopUrl" || !strings.Contains(v.Fields[0].Message, "private") {
			t.Fatalf("got %v, want a validation error on shopUrl", err)
		}
		if st.saves != before {
			t.Error("a refused confirmation must not change the store")
		}
	})
}
