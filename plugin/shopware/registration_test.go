package shopware

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

const (
	testAppName   = "TreueLoyalty"
	testAppSecret = "app-secret-from-the-manifest"
	testShopURL   = "https://shop.example"
	testConfirm   = "https://treue.example.com/shopware/confirm"
)

// memStore is an in-memory ShopStore that hands out copies, as a database would.
type memStore struct {
	mu     sync.Mutex
	shops  map[string]models.Shop // by external id
	nextID int64
	saves  int
}

func newMemStore() *memStore { return &memStore{shops: map[string]models.Shop{}} }

func (m *memStore) ShopByExternalID(_ context.Context, p models.Platform, id string) (*models.Shop, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.shops[id]
	if !ok || s.Platform != p {
		return nil, fmt.Errorf("shop %q: %w", id, models.ErrNotFound)
	}
	return clone(&s), nil
}

func (m *memStore) SaveShop(_ context.Context, s *models.Shop) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := s.Validate(); err != nil {
		return err
	}
	if s.ID == 0 {
		m.nextID++
		s.ID = m.nextID
	}
	m.saves++
	m.shops[s.ExternalID] = *clone(s)
	return nil
}

func (m *memStore) get(tb testing.TB, id string) *models.Shop {
	tb.Helper()
	s, err := m.ShopByExternalID(context.Background(), models.PlatformShopware, id)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func clone(s *models.Shop) *models.Shop {
	c := *s
	c.Secrets.Webhook = append([]string(nil), s.Secrets.Webhook...)
	return &c
}

// clock is a settable time source for the Registrar.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// handshake is an empty shop store, a clock on 2026-06-10 08:00 UTC, and
// the Registrar and Receiver of one Treue using them.
func handshake() (*memStore, *clock, *Registrar, *Receiver) {
	store := newMemStore()
	c := &clock{t: time.Date(2026, 6, 10, 8, 0, 0, 0, time.UTC)}
	return store, c, newRegistrar(store, c), New(0)
}

func newRegistrar(store ShopStore, c *clock) *Registrar {
	return &Registrar{AppName: testAppName, AppSecret: testAppSecret, ConfirmURL: testConfirm, Store: store, Now: c.now}
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// registration builds the GET Shopware sends: the query in Shopware's order with ':' and
// '/' left unescaped, signed with the app secret and, on re-registration, the shop secret.
func registration(shopID string, at time.Time, shopSecret string) (string, http.Header) {
	q := fmt.Sprintf("shop-id=%s&shop-url=%s&timestamp=%d", shopID, testShopURL, at.Unix())
	h := http.Header{}
	h.Set("shopware-app-signature", hmacHex(testAppSecret, q))
	h.Set("sw-version", "6.7.5.0")
	if shopSecret != "" {
		h.Set("shopware-shop-signature", hmacHex(shopSecret, q))
	}
	return q, h
}

// confirmation builds the POST body as PHP's json_encode writes it (slashes escaped) and
// signs it with the new secret and, on re-registration, the previous one.
func confirmation(shopID string, at time.Time, newSecret, previous string) ([]byte, http.Header) {
	b, _ := json.Marshal(map[string]string{
		"apiKey": "SWIAWUJHZEFLT0RJBWVKZKXXNA", "secretKey": "bVJ5S3hFQnlqb0xHZ0ZpVHpnZ0FtSzRRbXZCb2pQU3FhTktMNGE",
		"timestamp": fmt.Sprint(at.Unix()), "shopUrl": testShopURL, "shopId": shopID,
	})
	body := []byte(strings.ReplaceAll(string(b), "/", `\/`))
	h := http.Header{}
	h.Set("shopware-shop-signature", hmacHex(newSecret, string(body)))
	if previous != "" {
		h.Set("shopware-shop-signature-previous", hmacHex(previous, string(body)))
	}
	return body, h
}

// webhook is a delivery for shopID sent at at, signed with secret.
func webhook(shopID string, at time.Time, secret string) *plugin.Delivery {
	body := fmt.Sprintf(`{"data":{"payload":[],"event":"app.activated"},"source":{"url":"https:\/\/shop.example","shopId":%q,"appVersion":"1.0.0","eventId":"e-%d"},"timestamp":%d}`, shopID, at.Unix(), at.Unix())
	return signedDelivery([]byte(body), secret)
}

// TestRegistrar_Handshake runs install, a webhook, a secret rotation and the grace period
// end to end, checking what Shopware checks on its side.
func TestRegistrar_Handshake(t *testing.T) {
	ctx := context.Background()
	store, c, r, recv := handshake()

	// 1. Registration.
	q, h := registration(fixtureShopID, c.t, "")
	resp, err := r.Register(ctx, q, h)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	// Shopware compares the proof with hash_equals against its own HMAC.
	if want := hmacHex(testAppSecret, fixtureShopID+testShopURL+testAppName); resp.Proof != want {
		t.Fatalf("proof = %s, want %s", resp.Proof, want)
	}
	if len(resp.Secret) != 128 || resp.ConfirmationURL != testConfirm {
		t.Fatalf("response = %+v: want a 128-character secret and the confirm URL", resp)
	}
	raw, _ := json.Marshal(resp)
	if !strings.Contains(string(raw), `"confirmation_url":`) || !strings.Contains(string(raw), `"proof":`) {
		t.Fatalf("JSON %s lacks Shopware's field names", raw)
	}
	shop := store.get(t, fixtureShopID)
	want := models.Shop{
		ID: shop.ID, Key: "sw-abc123xyzq7pl0mn", Platform: models.PlatformShopware, Name: "shop.example",
		ExternalID: fixtureShopID, Source: "registration",
		Secrets: models.ShopSecrets{Pending: resp.Secret, PendingURL: testShopURL},
	}
	if diff := cmp.Diff(want, *shop); diff != "" {
		t.Fatalf("registered shop (-want +got):\n%s", diff)
	}
	// Not confirmed yet: the pending secret must not verify webhooks.
	if err := recv.Verify(context.Background(), webhook(fixtureShopID, c.t, resp.Secret), shop, c.t); !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("webhook before confirmation: %v", err)
	}

	// 2. Confirmation.
	c.t = c.t.Add(time.Second)
	body, h := confirmation(fixtureShopID, c.t, resp.Secret, "")
	if err := r.Confirm(ctx, h, body); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	shop = store.get(t, fixtureShopID)
	want.URL = testShopURL
	want.Secrets = models.ShopSecrets{
		Webhook: []string{resp.Secret},
		APIKey:  "SWIAWUJHZEFLT0RJBWVKZKXXNA", APISecret: "bVJ5S3hFQnlqb0xHZ0ZpVHpnZ0FtSzRRbXZCb2pQU3FhTktMNGE",
	}
	if diff := cmp.Diff(want, *shop); diff != "" {
		t.Fatalf("confirmed shop (-want +got):\n%s", diff)
	}
	// A replayed confirmation finds nothing pending.
	if err := r.Confirm(ctx, h, body); !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("replayed Confirm: %v", err)
	}

	// 3. A webhook signed with the new secret verifies.
	c.t = c.t.Add(time.Minute)
	if err := recv.Verify(context.Background(), webhook(fixtureShopID, c.t, resp.Secret), shop, c.t); err != nil {
		t.Fatalf("webhook after confirmation: %v", err)
	}

	// 4. Re-registration (app:secret:rotate, or a move of the shop): both signatures.
	first := resp.Secret
	c.t = c.t.Add(time.Hour)
	q, h = registration(fixtureShopID, c.t, first)
	resp, err = r.Register(ctx, q, h)
	if err != nil {
		t.Fatalf("re-Register: %v", err)
	}
	second := resp.Secret
	if second == first {
		t.Fatal("re-registration must hand out a new secret")
	}
	shop = store.get(t, fixtureShopID)
	if shop.Secrets.Pending != second || len(shop.Secrets.Webhook) != 1 || shop.Secrets.Webhook[0] != first {
		t.Fatalf("before confirmation the old secret must stay current: %+v", shop.Secrets)
	}

	// 5. Confirmation of the rotation, signed with the new and the previous secret.
	body, h = confirmation(fixtureShopID, c.t, second, first)
	if err := r.Confirm(ctx, h, body); err != nil {
		t.Fatalf("rotation Confirm: %v", err)
	}
	rotatedAt := c.t
	shop = store.get(t, fixtureShopID)
	if diff := cmp.Diff([]string{second, first}, shop.Secrets.Webhook); diff != "" {
		t.Fatalf("webhook secrets (-want +got):\n%s", diff)
	}
	if !shop.Secrets.PreviousUntil.Equal(rotatedAt.Add(60 * time.Second)) {
		t.Fatalf("PreviousUntil = %v, want confirmation + 60 s", shop.Secrets.PreviousUntil)
	}

	// 6. The old secret works during the grace period only; the new one keeps working.
	for _, tc := range []struct {
		name   string
		secret string
		after  time.Duration
		ok     bool
	}{
		{"OldWithinGrace", first, 30 * time.Second, true},
		{"OldAfterGrace", first, 61 * time.Second, false},
		{"NewWithinGrace", second, 30 * time.Second, true},
		{"NewAfterGrace", second, 61 * time.Second, true},
	} {
		now := rotatedAt.Add(tc.after)
		err := recv.Verify(context.Background(), webhook(fixtureShopID, now, tc.secret), shop, now)
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, models.ErrUnauthorized) {
			t.Errorf("%s: got %v, want ErrUnauthorized", tc.name, err)
		}
	}
}

func TestRegistrar_Register(t *testing.T) {
	now := time.Date(2026, 6, 10, 8, 0, 0, 0, time.UTC)
	const current = "current-shop-secret-of-the-known-shop"
	known := func() *memStore {
		s := newMemStore()
		_ = s.SaveShop(context.Background(), &models.Shop{
			Key: "sw-known", Platform: models.PlatformShopware, ExternalID: "Known123", URL: testShopURL,
			Secrets: models.ShopSecrets{Webhook: []string{current}},
		})
		return s
	}
	signed := func(q string) http.Header {
		h := http.Header{}
		h.Set("shopware-app-signature", hmacHex(testAppSecret, q))
		return h
	}
	fresh := fmt.Sprintf("shop-id=New456&shop-url=%s&timestamp=%d", testShopURL, now.Unix())

	tests := []struct {
		name   string
		store  *memStore
		query  string
		header http.Header
		// want is nil for success, else the error it must match (or a validation field).
		want  error
		field string
	}{
		{name: "OK", store: newMemStore(), query: fresh, header: signed(fresh)},
		{
			// A proxy re-encoded the query: the decoded form still verifies.
			name: "OKDecodedFallback", store: newMemStore(),
			query:  fmt.Sprintf("shop-id=New456&shop-url=https%%3A%%2F%%2Fshop.example&timestamp=%d", now.Unix()),
			header: signed(fresh),
		},
		{
			name: "OKEncodedQuerySignedAsSent", store: newMemStore(),
			query:  fmt.Sprintf("shop-id=New456&shop-url=https%%3A%%2F%%2Fshop.example&timestamp=%d", now.Unix()),
			header: signed(fmt.Sprintf("shop-id=New456&shop-url=https%%3A%%2F%%2Fshop.example&timestamp=%d", now.Unix())),
		},
		{
			// Registered but never confirmed: no secret to prove, a fresh start.
			name: "OKKnownButUnconfirmed", store: func() *memStore {
				s := newMemStore()
				_ = s.SaveShop(context.Background(), &models.Shop{Key: "sw-new456", Platform: models.PlatformShopware, ExternalID: "New456", Secrets: models.ShopSecrets{Pending: "p"}})
				return s
			}(), query: fresh, header: signed(fresh),
		},
		{
			name: "OKKnownWithShopSignature", store: known(),
			query: fmt.Sprintf("shop-id=Known123&shop-url=%s&timestamp=%d", testShopURL, now.Unix()),
			header: func() http.Header {
				q := fmt.Sprintf("shop-id=Known123&shop-url=%s&timestamp=%d", testShopURL, now.Unix())
				h := signed(q)
				h.Set("shopware-shop-signature", hmacHex(current, q))
				return h
			}(),
		},
		{name: "ErrWrongAppSignature", store: newMemStore(), query: fresh, header: http.Header{"Shopware-App-Signature": {hmacHex("not-the-app-secret", fresh)}}, want: models.ErrUnauthorized},
		{name: "ErrMissingAppSignature", store: newMemStore(), query: fresh, header: http.Header{}, want: models.ErrUnauthorized},
		{name: "ErrTamperedQuery", store: newMemStore(), query: strings.Replace(fresh, "shop.example", "evil.example", 1), header: signed(fresh), want: models.ErrUnauthorized},
		{
			name: "ErrStale", store: newMemStore(),
			query:  fmt.Sprintf("shop-id=New456&shop-url=%s&timestamp=%d", testShopURL, now.Add(-10*time.Minute).Unix()),
			header: signed(fmt.Sprintf("shop-id=New456&shop-url=%s&timestamp=%d", testShopURL, now.Add(-10*time.Minute).Unix())),
			want:   models.ErrUnauthorized,
		},
		{
			// Holding the app secret is not enough to take over a known shop.
			name: "ErrKnownWithoutShopSignature", store: known(),
			query:  fmt.Sprintf("shop-id=Known123&shop-url=https://evil.example&timestamp=%d", now.Unix()),
			header: signed(fmt.Sprintf("shop-id=Known123&shop-url=https://evil.example&timestamp=%d", now.Unix())),
			want:   models.ErrUnauthorized,
		},
		{
			name: "ErrKnownWithWrongShopSignature", store: known(),
			query: fmt.Sprintf("shop-id=Known123&shop-url=%s&timestamp=%d", testShopURL, now.Unix()),
			header: func() http.Header {
				q := fmt.Sprintf("shop-id=Known123&shop-url=%s&timestamp=%d", testShopURL, now.Unix())
				h := signed(q)
				h.Set("shopware-shop-signature", hmacHex("some-other-secret", q))
				return h
			}(),
			want: models.ErrUnauthorized,
		},
		{name: "ErrMissingShopID", store: newMemStore(), query: "shop-url=https://shop.example&timestamp=1781078400", header: signed("shop-url=https://shop.example&timestamp=1781078400"), field: "shop-id"},
		{name: "ErrRelativeShopURL", store: newMemStore(), query: "shop-id=a&shop-url=shop.example&timestamp=1781078400", header: signed("shop-id=a&shop-url=shop.example&timestamp=1781078400"), field: "shop-url"},
		{name: "ErrBadTimestamp", store: newMemStore(), query: "shop-id=a&shop-url=https://shop.example&timestamp=soon", header: signed("shop-id=a&shop-url=https://shop.example&timestamp=soon"), field: "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.store.saves
			r := newRegistrar(tt.store, &clock{t: now})
			resp, err := r.Register(context.Background(), tt.query, tt.header)
			t.Logf("err: %v", err)
			switch {
			case tt.field != "":
				var v *models.ValidationError
				if !errors.As(err, &v) || v.Fields[0].Field != tt.field {
					t.Fatalf("got %v, want a validation error on %q", err, tt.field)
				}
			case tt.want != nil:
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
			case err != nil:
				t.Fatalf("Register: %v", err)
			default:
				if len(resp.Secret) != 128 || resp.Proof == "" {
					t.Fatalf("response %+v", resp)
				}
				return
			}
			if tt.store.saves != before {
				t.Error("a refused registration must not change the store")
			}
			if strings.Contains(err.Error(), current) || strings.Contains(err.Error(), testAppSecret) {
				t.Errorf("error %q reveals a secret", err)
			}
		})
	}
}

func TestRegistrar_Register_Failures(t *testing.T) {
	now := time.Date(2026, 6, 10, 8, 0, 0, 0, time.UTC)
	q, h := registration("New456", now, "")
	t.Run("ErrNoAppSecret", func(t *testing.T) {
		r := newRegistrar(newMemStore(), &clock{t: now})
		r.AppSecret = ""
		if _, err := r.Register(context.Background(), q, h); err == nil || errors.Is(err, models.ErrUnauthorized) {
			t.Fatalf("got %v, want a configuration error", err)
		}
	})
	t.Run("ErrRandom", func(t *testing.T) {
		r := newRegistrar(newMemStore(), &clock{t: now})
		r.Rand = iotest.ErrReader(errors.New("entropy exhausted"))
		if _, err := r.Register(context.Background(), q, h); err == nil {
			t.Fatal("want an error")
		}
	})
	t.Run("LongShopIDGivesValidKey", func(t *testing.T) {
		id := strings.Repeat("Ab.C", 30)
		q, h := registration(id, now, "")
		store := newMemStore()
		if _, err := newRegistrar(store, &clock{t: now}).Register(context.Background(), q, h); err != nil {
			t.Fatal(err)
		}
		if key := store.get(t, id).Key; !models.ValidShopKey(key) || !strings.HasPrefix(key, "sw-ab-c") {
			t.Fatalf("key %q", key)
		}
	})
}

func TestRegistrar_Confirm(t *testing.T) {
	now := time.Date(2026, 6, 10, 8, 0, 0, 0, time.UTC)
	const (
		pending = "pending-secret-handed-out-by-register"
		current = "current-secret-the-shop-signs-with"
	)
	newShop := func() *memStore {
		s := newMemStore()
		_ = s.SaveShop(context.Background(), &models.Shop{
			Key: "sw-new", Platform: models.PlatformShopware, ExternalID: "New456",
			Secrets: models.ShopSecrets{Pending: pending, PendingURL: testShopURL},
		})
		return s
	}
	rotating := func() *memStore {
		s := newMemStore()
		_ = s.SaveShop(context.Background(), &models.Shop{
			Key: "sw-known", Platform: models.PlatformShopware, ExternalID: "Known123", URL: testShopURL,
			Secrets: models.ShopSecrets{Webhook: []string{current}, Pending: pending, PendingURL: testShopURL, APIKey: "old"},
		})
		return s
	}
	body, okHeader := confirmation("New456", now, pending, "")
	rotBody, rotHeader := confirmation("Known123", now, pending, current)
	sig := func(b []byte, secrets ...string) http.Header {
		h := http.Header{}
		h.Set("shopware-shop-signature", hmacHex(secrets[0], string(b)))
		if len(secrets) > 1 {
			h.Set("shopware-shop-signature-previous", hmacHex(secrets[1], string(b)))
		}
		return h
	}
	numericTS := []byte(fmt.Sprintf(`{"apiKey":"k","secretKey":"s","timestamp":%d,"shopUrl":"https:\/\/shop.example","shopId":"New456"}`, now.Unix()))
	noKey := []byte(fmt.Sprintf(`{"secretKey":"s","timestamp":"%d","shopId":"New456"}`, now.Unix()))
	stale := []byte(fmt.Sprintf(`{"apiKey":"k","secretKey":"s","timestamp":"%d","shopId":"New456"}`, now.Add(-time.Hour).Unix()))

	tests := []struct {
		name      string
		store     *memStore
		body      []byte
		header    http.Header
		want      error
		field     string
		malformed bool
	}{
		{name: "OK", store: newShop(), body: body, header: okHeader},
		{name: "OKNumericTimestamp", store: newShop(), body: numericTS, header: sig(numericTS, pending)},
		{name: "OKRotation", store: rotating(), body: rotBody, header: rotHeader},
		{name: "ErrWrongSignature", store: newShop(), body: body, header: sig(body, "not-the-pending-secret"), want: models.ErrUnauthorized},
		{name: "ErrSignedWithCurrentNotPending", store: rotating(), body: rotBody, header: sig(rotBody, current, current), want: models.ErrUnauthorized},
		{name: "ErrMissingSignature", store: newShop(), body: body, header: http.Header{}, want: models.ErrUnauthorized},
		{name: "ErrRotationWithoutPreviousSignature", store: rotating(), body: rotBody, header: sig(rotBody, pending), want: models.ErrUnauthorized},
		{name: "ErrRotationWrongPreviousSignature", store: rotating(), body: rotBody, header: sig(rotBody, pending, "stolen"), want: models.ErrUnauthorized},
		{name: "ErrReencodedBody", store: newShop(), body: []byte(strings.ReplaceAll(string(body), `\/`, "/")), header: okHeader, want: models.ErrUnauthorized},
		{name: "ErrUnknownShop", store: newMemStore(), body: body, header: okHeader, want: models.ErrUnauthorized},
		{name: "ErrNothingPending", store: func() *memStore {
			s := newMemStore()
			_ = s.SaveShop(context.Background(), &models.Shop{Key: "sw-new", Platform: models.PlatformShopware, ExternalID: "New456", Secrets: models.ShopSecrets{Webhook: []string{pending}}})
			return s
		}(), body: body, header: okHeader, want: models.ErrUnauthorized},
		{name: "ErrStale", store: newShop(), body: stale, header: sig(stale, pending), want: models.ErrUnauthorized},
		{name: "ErrBrokenJSON", store: newShop(), body: []byte(`{"apiKey":`), header: okHeader, malformed: true},
		{name: "ErrMissingShopID", store: newShop(), body: []byte(`{"apiKey":"k"}`), header: okHeader, field: "shopId"},
		{name: "ErrMissingAPIKey", store: newShop(), body: noKey, header: sig(noKey, pending), field: "apiKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var id struct {
				ShopID string `json:"shopId"`
			}
			_ = json.Unmarshal(tt.body, &id)
			var before *models.Shop
			if s, err := tt.store.ShopByExternalID(context.Background(), models.PlatformShopware, id.ShopID); err == nil {
				before = s
			}
			err := newRegistrar(tt.store, &clock{t: now}).Confirm(context.Background(), tt.header, tt.body)
			t.Logf("err: %v", err)
			switch {
			case tt.malformed:
				var m *models.MalformedError
				if !errors.As(err, &m) {
					t.Fatalf("got %v, want *models.MalformedError", err)
				}
			case tt.field != "":
				var v *models.ValidationError
				if !errors.As(err, &v) || v.Fields[0].Field != tt.field {
					t.Fatalf("got %v, want a validation error on %q", err, tt.field)
				}
			case tt.want != nil:
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				if strings.Contains(err.Error(), pending) || strings.Contains(err.Error(), current) {
					t.Errorf("error %q reveals a secret", err)
				}
			case err != nil:
				t.Fatalf("Confirm: %v", err)
			default:
				got := tt.store.get(t, id.ShopID)
				if got.Secrets.Webhook[0] != pending || got.Secrets.Pending != "" || got.URL != testShopURL || got.Secrets.APIKey == "old" {
					t.Fatalf("confirmed secrets %+v", got.Secrets)
				}
				return
			}
			if before != nil {
				if diff := cmp.Diff(before, tt.store.get(t, id.ShopID)); diff != "" {
					t.Errorf("a refused confirmation changed the shop (-before +after):\n%s", diff)
				}
			}
		})
	}
}

func TestShopKey(t *testing.T) {
	for in, want := range map[string]string{
		"AbC123xyzQ7pL0mN":      "sw-abc123xyzq7pl0mn",
		"a.b/c d":               "sw-a-b-c-d",
		"Ünïcode":               "sw---n--code", // each byte of a multi-byte rune is replaced
		strings.Repeat("x", 70): "sw-" + strings.Repeat("x", 60),
	} {
		got := shopKey(in)
		if got != want || !models.ValidShopKey(got) {
			t.Errorf("shopKey(%q) = %q, want %q (valid)", in, got, want)
		}
	}
}

// TestRegistrar_Uninstalled: after app.deleted the shop's old secret verifies
// nothing, and a reinstall (same shop id, no shop signature: Shopware forgot
// the secret with the app) registers like a new shop, keeping the shop.
func TestRegistrar_Uninstalled(t *testing.T) {
	ctx := context.Background()
	store, c, r, recv := handshake()
	install := func() string {
		t.Helper()
		q, h := registration(fixtureShopID, c.t, "")
		resp, err := r.Register(ctx, q, h)
		if err != nil {
			t.Fatalf("Register: %v", err)
		}
		body, h := confirmation(fixtureShopID, c.t, resp.Secret, "")
		if err := r.Confirm(ctx, h, body); err != nil {
			t.Fatalf("Confirm: %v", err)
		}
		return resp.Secret
	}
	first := install()
	installed := store.get(t, fixtureShopID)

	// Uninstalled mid-handshake: an unfinished rotation is forgotten too.
	q, h := registration(fixtureShopID, c.t, first)
	if _, err := r.Register(ctx, q, h); err != nil {
		t.Fatal(err)
	}
	if err := r.Uninstalled(ctx, installed); err != nil {
		t.Fatal(err)
	}
	shop := store.get(t, fixtureShopID)
	if diff := cmp.Diff(models.ShopSecrets{}, shop.Secrets); diff != "" {
		t.Fatalf("secrets after removal (-want +got):\n%s", diff)
	}
	if shop.ID != installed.ID || shop.Key != installed.Key || shop.URL != installed.URL {
		t.Fatalf("the shop itself changed: %+v", shop)
	}
	if err := recv.Verify(context.Background(), webhook(fixtureShopID, c.t, first), shop, c.t); !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("webhook with the removed app's secret: %v", err)
	}

	c.t = c.t.Add(time.Minute)
	second := install()
	shop = store.get(t, fixtureShopID)
	if shop.ID != installed.ID || len(shop.Secrets.Webhook) != 1 || shop.Secrets.Webhook[0] != second || shop.Secrets.APIKey == "" {
		t.Fatalf("reinstalled shop: id %d (want %d), secrets %+v", shop.ID, installed.ID, shop.Secrets)
	}
}
