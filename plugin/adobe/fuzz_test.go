package adobe

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// FuzzParse checks that Parse never panics, returns only the documented error
// types, and never returns an event that fails validation.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, true)
	}
	f.Add([]byte(`{"id":"1","type":"com.adobe.commerce.observer.rma_save_after","data":{"value":{"status":"received","items":{"b":{"sku":"x","qty_returned":1e300}}}}}`), false)
	f.Add([]byte(`[{"eventid":"a"},{"type":"com.adobe.commerce.observer.sales_order_save_after","data":{"value":null}}]`), false)
	f.Add([]byte(`{"id":"1","type":"com.adobe.commerce.observer.customer_register_success","data":{"value":{"customer":{"email":"a@b","dob":"1990-13-45"}}}}`), false)

	f.Fuzz(func(t *testing.T, body []byte, withHeader bool) {
		// Parse never looks at signatures, so none are computed here (RSA would
		// slow the fuzzer a hundredfold).
		d := &plugin.Delivery{Header: make(map[string][]string), Body: body}
		if withHeader {
			d.Header.Set("x-adobe-event-id", "ev-1")
		}
		p, err := New(nil).Parse(d)
		if err != nil {
			var me *models.MalformedError
			var ve *models.ValidationError
			if !errors.As(err, &me) && !errors.As(err, &ve) {
				t.Fatalf("Parse returned %T %v, want MalformedError or ValidationError", err, err)
			}
			return
		}
		if p.DeliveryID == "" {
			t.Fatal("Parse succeeded without a delivery id")
		}
		for i := range p.Events {
			if err := p.Events[i].Validate(); err != nil {
				t.Fatalf("event %d does not validate: %v", i, err)
			}
		}
	})
}

// FuzzVerify checks that Verify never panics and accepts a delivery only when
// one signature is valid for the body and the body names our client id.
func FuzzVerify(f *testing.F) {
	body, err := os.ReadFile(filepath.Join("testdata", "order_new.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body, signBody(testKey1, body), signBody(testKey2, body), testKeyPath1, testKeyPath2)
	f.Add(body, "", signBody(testKey2, body), "", testKeyPath2)
	f.Add([]byte(`{"recipientclientid":"`+testClientID+`"}`), "AAAA", "", testKeyPath1, "/../x")
	f.Add([]byte(`[]`), "", "", "", "")

	keys := newFakeKeys()
	f.Fuzz(func(t *testing.T, body []byte, sig1, sig2, path1, path2 string) {
		d := &plugin.Delivery{Header: make(map[string][]string), Body: body}
		d.Header.Set("x-adobe-digital-signature-1", sig1)
		d.Header.Set("x-adobe-digital-signature-2", sig2)
		d.Header.Set("x-adobe-public-key1-path", path1)
		d.Header.Set("x-adobe-public-key2-path", path2)
		err := New(keys).Verify(context.Background(), d, testShop(), time.Now())
		if err != nil {
			if !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("Verify = %v, want ErrUnauthorized", err)
			}
			return
		}
		if checkRecipient(body, testClientID) != nil {
			t.Fatal("Verify accepted a body not addressed to the shop")
		}
		digest := sha256.Sum256(body)
		valid := func(sig, path string) bool {
			k, ok := keys.keys[strings.TrimSpace(path)]
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
			return ok && err == nil && rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], raw) == nil
		}
		if !valid(sig1, path1) && !valid(sig2, path2) {
			t.Fatal("Verify accepted a delivery without a valid signature")
		}
	})
}
