package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

// TestActionsAdmin: dead actions are listed, retried and cancelled through the
// API and the CLI.
func TestActionsAdmin(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		dir := t.TempDir()
		e := newEnv(t, driver, "rules:\n  file: "+exampleRules(t, dir)+"\n")
		support := token(t, e, "s", "support")
		admin := token(t, e, "a", "admin")
		in := e.serve(t)
		privacyJourney(t, in.URL+"/webhooks/standard/acme", "j")
		waitDrained(t, e)
		st := e.store(t)
		ctx := context.Background()
		shop, _ := st.ShopByKey(ctx, "acme")
		// Kill every pending action the way the dispatcher does after a permanent error.
		st.Now = func() time.Time { return time.Now().UTC().Add(400 * 24 * time.Hour) }
		claimed, err := st.ClaimActions(ctx, "test", 100, time.Minute, nil)
		if err != nil || len(claimed) == 0 {
			t.Fatalf("claim: %d %v", len(claimed), err)
		}
		for _, a := range claimed {
			if ok, err := st.KillAction(ctx, a.ShopID, a.ID, "test", "400 Bad Request: promotion_id missing"); !ok || err != nil {
				t.Fatalf("kill: %v %v", ok, err)
			}
		}
		st.Now = func() time.Time { return time.Now().UTC() }

		code, m := apiDo(t, "GET", in.URL+"/api/v1/shops/acme/actions?status=dead", support, "")
		dead, _ := m["actions"].([]any)
		if code != 200 || len(dead) != len(claimed) {
			t.Fatalf("list dead: %d %v", code, m)
		}
		first := dead[0].(map[string]any)
		id := first["id"].(string)
		if first["reason"] == "" || first["customer"] == "" {
			t.Fatalf("dead action without reason or customer: %v", first)
		}
		if code, _ := apiDo(t, "POST", in.URL+"/api/v1/actions/"+id+"/retry", support, ""); code != 403 {
			t.Fatalf("support retrying: %d", code)
		}
		code, m = apiDo(t, "POST", in.URL+"/api/v1/actions/"+id+"/retry", admin, "")
		if code != 200 || m["status"] != "scheduled" || m["attempts"].(float64) != 0 {
			t.Fatalf("retry: %d %v", code, m)
		}
		if code, _ := apiDo(t, "POST", in.URL+"/api/v1/actions/"+id+"/retry", admin, ""); code != 409 {
			t.Fatalf("retrying a scheduled action: %d", code)
		}
		if code, m := apiDo(t, "POST", in.URL+"/api/v1/actions/"+id+"/cancel", admin, ""); code != 200 || m["status"] != "cancelled" {
			t.Fatalf("cancel: %d %v", code, m)
		}
		// A wrong state is a conflict (models.ErrConflict), not a duplicate.
		if code, m := apiDo(t, "POST", in.URL+"/api/v1/actions/"+id+"/cancel", admin, ""); code != 409 || m["type"] != "urn:treue:problem:conflict" ||
			!strings.Contains(m["detail"].(string), "only scheduled, retrying or dead actions can be cancelled") {
			t.Fatalf("cancelling a cancelled action: %d %v", code, m)
		}
		if code, _ := apiDo(t, "POST", in.URL+"/api/v1/actions/00000000-0000-0000-0000-000000000000/cancel", admin, ""); code != 404 {
			t.Fatalf("unknown action: %d", code)
		}
		if code, _ := apiDo(t, "GET", in.URL+"/api/v1/shops/acme/actions?status=nope", support, ""); code != 422 {
			t.Fatalf("bad status: %d", code)
		}
		// The CLI sees and changes the same.
		out, err := e.run(t, "actions", "list", "--shop", "acme")
		if err != nil || strings.Count(out, "dead") != len(claimed)-1 {
			t.Fatalf("CLI list: %v\n%s", err, out)
		}
		second := dead[1].(map[string]any)["id"].(string)
		if out, err := e.run(t, "actions", "retry", second); err != nil || !strings.Contains(out, "scheduled") {
			t.Fatalf("CLI retry: %q %v", out, err)
		}
		if out, err := e.run(t, "actions", "cancel", second); err != nil || !strings.Contains(out, "cancelled") {
			t.Fatalf("CLI cancel: %q %v", out, err)
		}
		if _, err := e.run(t, "actions", "retry", second); !errors.Is(err, models.ErrConflict) || !strings.Contains(err.Error(), "is cancelled; only dead actions can be retried") {
			t.Fatalf("CLI retrying a cancelled action: %v", err)
		}
		a, _ := st.ActionByPublicID(ctx, second)
		if a.Status != models.ActionCancelled || a.ShopID != shop.ID {
			t.Fatalf("%+v", a)
		}
	})
}
