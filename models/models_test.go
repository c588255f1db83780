package models

import (
	"errors"
	"testing"
	"time"
)

func TestMoney_Cents(t *testing.T) {
	tests := []struct {
		in   Money
		want int64
		ok   bool
	}{
		{"59.80", 5980, true}, {"14.9", 1490, true}, {"0", 0, true}, {"", 0, true},
		{"-3.005", -301, true}, {"1.004", 100, true}, {"12,50", 0, false}, {"abc", 0, false},
	}
	for _, tt := range tests {
		got, ok := tt.in.Cents()
		if got != tt.want || ok != tt.ok {
			t.Errorf("Money(%q).Cents() = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if got := FormatCents(-5); got != "-0.05" {
		t.Errorf("FormatCents(-5) = %q", got)
	}
	if got := FormatCents(5980); got != "59.80" {
		t.Errorf("FormatCents(5980) = %q", got)
	}
}

func TestEvent_Validate(t *testing.T) {
	ts := time.Date(2026, 11, 2, 9, 15, 0, 0, time.UTC)
	t.Run("OK", func(t *testing.T) {
		e := Event{Type: OrderPaid, Timestamp: ts, Data: EventData{Customer: CustomerRef{ID: "c"}, Order: &Order{ID: "o"}}}
		if err := e.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrMissingOrder", func(t *testing.T) {
		e := Event{Type: OrderPaid, Timestamp: ts, Data: EventData{Customer: CustomerRef{ID: "c"}}}
		err := e.Validate()
		var v *ValidationError
		if !errors.As(err, &v) || !errors.Is(err, ErrInvalid) || v.Fields[0].Field != "data.order.id" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrNoCustomer", func(t *testing.T) {
		e := Event{Type: CustomerRegistered, Timestamp: ts}
		if err := e.Validate(); err == nil {
			t.Fatal("want error")
		}
	})
}

func TestEvent_StepKey(t *testing.T) {
	a := Event{Type: OrderPaid, Timestamp: time.Unix(1, 0), Data: EventData{Customer: CustomerRef{ID: "c"}, Order: &Order{ID: "o"}}}
	b := a
	b.Timestamp = time.Unix(2, 0)
	if a.StepKey() != b.StepKey() {
		t.Fatal("same order step must share a key across deliveries")
	}
}

func TestShopSecrets_ActiveWebhookSecrets(t *testing.T) {
	now := time.Now()
	s := ShopSecrets{Webhook: []string{"new", "old"}, PreviousUntil: now.Add(time.Minute)}
	if got := s.ActiveWebhookSecrets(now); len(got) != 2 {
		t.Fatalf("within grace: %v", got)
	}
	if got := s.ActiveWebhookSecrets(now.Add(2 * time.Minute)); len(got) != 1 || got[0] != "new" {
		t.Fatalf("after grace: %v", got)
	}
}
