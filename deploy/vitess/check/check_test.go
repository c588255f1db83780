package check

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// EnvCapture names the directory a MySQL test run of Treue wrote its
// statements to (TREUE_SQL_CAPTURE).
const EnvCapture = "TREUE_SQL_CAPTURE"

func planner(t *testing.T) *Planner {
	t.Helper()
	p, err := NewPlanner("..")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCapturedStatementsRouteToOneShard is the proof: every statement the
// test run captured on a hot path plans to one shard.
func TestCapturedStatementsRouteToOneShard(t *testing.T) {
	dir := os.Getenv(EnvCapture)
	if dir == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must check a capture", EnvCapture)
		}
		t.Skipf("%s is not set: run Treue's MySQL tests with it first (see README.md)", EnvCapture)
	}
	sts, err := ReadCaptures(dir)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := planner(t).Judge(sts)
	byPath := map[string][2]int{}
	var offenders, allowedN, tests, pendingN []string
	for _, v := range verdicts {
		n := byPath[v.Path]
		n[0]++
		switch {
		case v.Offends():
			n[1]++
			offenders = append(offenders, describe(v))
		case v.Pending != "":
			pendingN = append(pendingN, describe(v)+"\n    pending: "+v.Pending)
		case v.Err == nil && !v.Single && v.Path == "test":
			tests = append(tests, describe(v))
		case v.Err == nil && !v.Single:
			allowedN = append(allowedN, describe(v)+"\n    allowed: "+v.Allowed)
		}
		byPath[v.Path] = n
	}
	for path, n := range byPath {
		t.Logf("%-11s %4d statements, %d offending", path, n[0], n[1])
	}
	t.Logf("%d statements reach several shards on allowed paths", len(allowedN))
	if len(pendingN) > 0 {
		t.Logf("PENDING: %d statements are not shard-ready yet (deploy/vitess/README.md, Status):\n%s", len(pendingN), strings.Join(pendingN, "\n"))
	}
	for _, p := range Stale(verdicts) {
		t.Errorf("Pending lists %s %s, which reaches one shard now (or was not captured): remove the entry", p.Path, p.Method)
	}
	if testing.Verbose() {
		for _, s := range allowedN {
			t.Log(s)
		}
		for _, s := range tests {
			t.Log("sent by a test only: " + s)
		}
	}
	if len(offenders) > 0 {
		t.Errorf("%d statements reach more than one shard or do not plan:\n%s", len(offenders), strings.Join(offenders, "\n"))
	}
}

func describe(v Verdict) string {
	what := v.Why
	if v.Err != nil {
		what = "does not plan: " + v.Err.Error()
	}
	return fmt.Sprintf("  [%s] %s\n    at %s (%s)\n    %s (plan %s, routes %s)", v.Path, v.SQL, v.Site, v.Method, what, v.Plan, strings.Join(v.Opcodes, ","))
}

// TestPlantedScatterIsReported shows that the check can fail: statements
// that name no shop, or several, on a hot path are offenders, and an
// allow-list entry does not excuse them there.
func TestPlantedScatterIsReported(t *testing.T) {
	p := planner(t)
	planted := []Statement{
		{SQL: "SELECT * FROM inbox WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?", Path: "processing", Site: "planted"},
		{SQL: "UPDATE actions SET status = ? WHERE id = ?", Path: "dispatch", Site: "planted"},
		{SQL: "SELECT * FROM events WHERE shop_id IN (?,?)", Path: "timeline", Site: "planted"},
		{SQL: "INSERT INTO inbox (shop_id, delivery_id) VALUES (?,?)", Path: "intake", Site: "planted", Shops: 2},
		{SQL: "SELECT * FROM customers JOIN events ON events.customer_id = customers.id WHERE customers.shop_id = ?", Path: "timeline", Site: "planted"},
		{SQL: "SELECT MAX(version) FROM schema_migrations", Path: "intake", Method: "(*Store).SchemaVersion", Site: "planted"},
	}
	for i, v := range p.Judge(planted) {
		wantOffends := i < len(planted)-1
		if v.Offends() != wantOffends {
			t.Errorf("%s: offends = %v, want %v (%s)", v.SQL, v.Offends(), wantOffends, describe(v))
		}
	}
	fine := []Statement{
		{SQL: "SELECT * FROM inbox WHERE shop_id = ? AND status = ? ORDER BY next_attempt_at, id LIMIT ?", Path: "processing"},
		{SQL: "UPDATE actions SET status = ? WHERE shop_id = ? AND id = ?", Path: "dispatch"},
		{SQL: "INSERT INTO inbox (shop_id, delivery_id) VALUES (?,?)", Path: "intake", Shops: 1},
		{SQL: "SELECT * FROM shops WHERE id = ?", Path: "intake"},
	}
	for _, v := range p.Judge(fine) {
		if v.Offends() {
			t.Errorf("a one-shard statement offends: %s", describe(v))
		}
	}
}
