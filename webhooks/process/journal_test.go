package process

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
)

// The batch decides from the state it loaded and stores its decisions at
// flush; these are the cases where the database knows better, and the flush
// must fail so that the batch runs again the careful way.
func TestBatchJournal_FlushFindsStaleState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		st := storetest.Open(t, driver)
		shop := &models.Shop{Key: "s", Platform: models.PlatformStandard, Source: "cli", Secrets: models.ShopSecrets{Webhook: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		if err := st.SaveShop(ctx, shop); err != nil {
			t.Fatal(err)
		}
		customer := func(id string) int64 {
			c, _, err := st.ResolveCustomer(ctx, shop.ID, models.CustomerRef{ID: id})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		a, b := customer("a"), customer("b")
		at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		event := func(customer int64, step string) *store.EventRecord {
			return &store.EventRecord{ShopID: shop.ID, CustomerID: customer, Type: string(models.OrderPaid), StepKey: step,
				OccurredAt: at, ReceivedAt: at, Platform: "standard", DeliveryID: step, Data: "{}"}
		}
		if _, err := st.InsertEvent(ctx, event(b, "order.paid|o-1")); err != nil {
			t.Fatal(err)
		}
		reminder := &models.Action{ShopID: shop.ID, CustomerID: a, Type: models.ActionReorderReminder, Status: models.ActionScheduled,
			RuleID: "r", DueAt: at.Add(30 * 24 * time.Hour), IdempotencyKey: "r|a"}
		if _, err := st.InsertAction(ctx, reminder); err != nil {
			t.Fatal(err)
		}

		flush := func(decide func(j *batchJournal, tx *store.Store)) error {
			// A batch's journal runs on a store scoped to the batch's shop.
			return st.ForShop(shop.ID).InTx(ctx, func(tx *store.Store) error {
				j, err := loadBatchJournal(ctx, tx, []int64{a}, nil)
				if err != nil {
					t.Fatal(err)
				}
				decide(j, tx)
				return j.flush(ctx)
			})
		}

		t.Run("step recorded for another customer", func(t *testing.T) {
			err := flush(func(j *batchJournal, _ *store.Store) {
				if ok, err := j.InsertEvent(ctx, event(a, "order.paid|o-1")); !ok || err != nil {
					t.Fatalf("insert: %v %v", ok, err)
				}
			})
			if !errors.Is(err, models.ErrDuplicate) || !errors.Is(carefulUnless(err), errCareful) {
				t.Fatalf("flush: %v", err)
			}
		})
		t.Run("cancelled action left its state meanwhile", func(t *testing.T) {
			err := flush(func(j *batchJournal, tx *store.Store) {
				if ok, err := j.CancelAction(ctx, reminder.ID, "moot"); !ok || err != nil {
					t.Fatalf("cancel: %v %v", ok, err)
				}
				// As the dispatcher would, between the batch's load and its flush.
				if ok, err := tx.Replan(ctx, reminder.ID, models.ActionSuppressed, "cap", reminder.DueAt); !ok || err != nil {
					t.Fatalf("replan: %v %v", ok, err)
				}
			})
			if err == nil || !errors.Is(carefulUnless(err), errCareful) {
				t.Fatalf("flush: %v", err)
			}
		})
		t.Run("fresh state flushes", func(t *testing.T) {
			var planned models.Action
			err := flush(func(j *batchJournal, _ *store.Store) {
				e := event(a, "order.paid|o-2")
				if ok, err := j.InsertEvent(ctx, e); !ok || err != nil {
					t.Fatalf("insert: %v %v", ok, err)
				}
				planned = models.Action{ShopID: shop.ID, CustomerID: a, Type: models.ActionPointsAward, Status: models.ActionScheduled,
					RuleID: "p", DueAt: at, IdempotencyKey: "p|a", TriggerEventID: e.ID, Params: map[string]any{"points": 5}}
				if ok, err := j.InsertAction(ctx, &planned); !ok || err != nil {
					t.Fatalf("plan: %v %v", ok, err)
				}
				if err := j.AddPoints(ctx, shop.ID, a, planned.ID, 5, "p"); err != nil {
					t.Fatal(err)
				}
				if ok, err := j.CancelAction(ctx, reminder.ID, "moot"); !ok || err != nil {
					t.Fatalf("cancel: %v %v", ok, err)
				}
				if ok, err := j.CancelAction(ctx, reminder.ID, "again"); ok || err != nil {
					t.Fatalf("cancel twice: %v %v", ok, err)
				}
			})
			if err != nil {
				t.Fatalf("flush: %v", err)
			}
			acts, err := st.CustomerActions(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			evs, err := st.CustomerEvents(ctx, a)
			if err != nil || len(evs) != 1 {
				t.Fatalf("events %v %v", evs, err)
			}
			byRule := map[string]models.Action{}
			for _, x := range acts {
				byRule[x.RuleID] = x
			}
			if p := byRule["p"]; p.ID >= firstProvisional || p.TriggerEventID != evs[0].ID {
				t.Errorf("planned action stored with id %d, trigger %d; event %d", p.ID, p.TriggerEventID, evs[0].ID)
			}
			if r := byRule["r"]; r.Status != models.ActionCancelled || r.Reason != "moot" {
				t.Errorf("reminder %s %q", r.Status, r.Reason)
			}
			if bal, err := st.PointsBalance(ctx, a); err != nil || bal != 5 {
				t.Errorf("balance %d %v", bal, err)
			}
		})
	})
}

// Journey hands out the journal's own slices, which the cache keeps too: a
// later insert must leave what was handed out as it was.
func TestBatchJournal_InsertLeavesHandedOutJourney(t *testing.T) {
	ctx := context.Background()
	j := newMemoryJournal(time.Now)
	j.addCustomer(1, "c1")
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	insert := func(step string, at time.Time) {
		r := &store.EventRecord{CustomerID: 1, Type: string(models.OrderPaid), StepKey: step, OccurredAt: at, ReceivedAt: at, Data: "{}"}
		if ok, err := j.InsertEvent(ctx, r); !ok || err != nil {
			t.Fatalf("insert %s: %v %v", step, ok, err)
		}
	}
	for i, step := range []string{"b", "c", "d"} {
		insert(step, at.Add(time.Duration(i)*time.Hour))
	}
	recs, hist, _ := j.Journey(ctx, 1)
	insert("a", at.Add(-time.Hour)) // sorts first: an insert in place would shift what was handed out
	if len(recs) != 3 || recs[0].StepKey != "b" || recs[2].StepKey != "d" || !hist[0].Timestamp.Equal(at) {
		t.Fatalf("handed-out journey changed: %+v", recs)
	}
	if now, _, _ := j.Journey(ctx, 1); len(now) != 4 || now[0].StepKey != "a" {
		t.Fatalf("journey after the insert: %+v", now)
	}
}
