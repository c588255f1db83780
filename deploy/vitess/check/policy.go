package check

import (
	"slices"
	"strings"
)

// Hot are the paths every statement of which must reach one shard: what a
// delivery goes through from the webhook to the shop's API, and what support
// reads of one customer. No allow-list entry applies to them.
var Hot = []string{"intake", "processing", "dispatch", "timeline", "scanner", "startup"}

// Allowed is a statement off the hot paths that may reach every shard.
type Allowed struct {
	Path   string // the capture's path
	Method string // the store method that sends it
	Why    string
}

// Allow is the list of scatter statements Treue may send, each with the
// reason it may. Keep it short: an entry here is a query that grows with
// the number of shards.
var Allow = []Allowed{
	// Migrations are applied per keyspace with vtctldclient ApplySchema
	// (deploy/vitess/apply-schema.sh), not through vtgate; the capture has
	// them because the tests migrate every database they open.
	{"migrations", "(*Store).Migrate", "schema changes go to every shard by nature; the operator applies them with vtctldclient"},

	// The retention job (privacy.Retention, one replica at a time under a
	// named lock) purges by age and finds the rows of removed shops: there
	// is no shop to route by, and each statement is an autocommit batch that
	// vtgate runs on every shard, off the request paths.
	{"privacy", "(*Store).PurgeRemovedShops", "rows of shops that no longer exist have no shop to route by"},
	{"privacy", "(*Store).PurgeRawPayloads", "blanks payloads past the retention period in every shop, batch by batch"},
	{"privacy", "(*Store).PurgeEvents", "deletes events past the retention period in every shop, batch by batch"},

	// The data-protection export of a customer reads all that Treue holds
	// on them, across shops; it is rare and by hand.
	{"privacy", "(*Store).ExportCustomer", "the privacy export reads across shops"},

	// Admin commands and endpoints that name an action or a customer by its
	// public id, which names no shop (POST /actions/{id}/retry|cancel,
	// `treue actions`, `treue customers`, `treue inbox list` across shops).
	{"admin", "(*Store).ActionByPublicID", "an action's public id names no shop"},
	{"admin", "(*Store).ActionByID", "read back after an admin's retry or cancel by public id"},
	{"admin", "(*Store).CancelAction", "an admin's cancel of an action found by public id"},
	{"admin", "(*Store).RetryDeadAction", "an admin's retry of an action found by public id"},
	{"admin", "(*Store).FindCustomer", "`treue customers` finds a customer by public id or identity in any shop"},
	{"admin", "(*Store).ListInbox", "`treue inbox list` without --shop lists every shop's deliveries"},
}

// Pending are statements known to reach several shards that are not
// shard-ready yet, by path and store method, each with what it lacks.
// They are printed on every run and do not fail it; an entry that no longer
// matches an offending statement fails the check, so that the list only
// shrinks. See deploy/vitess/README.md, "Status".
var Pending = []Allowed{
	// The loyalty report reads a page of journeys by customer ids only
	// (models/store/report_loyalty.go); it needs a store scoped to the
	// report's shop.
	{"reports", "(*Store).LoyaltyJourneys", "names customers by id only"},
}

// pending reports whether st is a known, not yet shard-ready statement.
func pending(st Statement) (string, bool) {
	for _, a := range Pending {
		if a.Path == st.Path && a.Method == st.Method {
			return a.Why, true
		}
	}
	return "", false
}

// allowed reports whether st may reach several shards, and why.
func allowed(st Statement) (string, bool) {
	if slices.Contains(Hot, st.Path) {
		return "", false
	}
	for _, a := range Allow {
		if a.Path == st.Path && a.Method == st.Method {
			return a.Why, true
		}
	}
	return "", false
}

// Verdict is the check's judgement of one statement.
type Verdict struct {
	Statement
	Route
	Err error
	// Allowed is the allow-list's reason for a statement that reaches
	// several shards off the hot paths.
	Allowed string
	// Pending is what a known, not yet shard-ready statement lacks.
	Pending string
}

// Offends reports whether v fails the check: a statement that does not
// plan, or reaches several shards without an allow-list entry. Statements
// only tests send (path "test") are reported, never failed: what Treue
// itself sends is captured on its own paths.
func (v Verdict) Offends() bool {
	if v.Path == "test" {
		return false
	}
	if v.Pending != "" {
		return false
	}
	return v.Err != nil || (!v.Single && v.Allowed == "")
}

// Stale lists the Pending entries that match no offending statement of vs.
func Stale(vs []Verdict) []Allowed {
	var out []Allowed
	for _, p := range Pending {
		found := false
		for _, v := range vs {
			if v.Pending != "" && v.Path == p.Path && v.Method == p.Method {
				found = true
				break
			}
		}
		if !found {
			out = append(out, p)
		}
	}
	return out
}

// Judge plans every statement.
func (p *Planner) Judge(sts []Statement) []Verdict {
	out := make([]Verdict, 0, len(sts))
	for _, st := range sts {
		v := Verdict{Statement: st}
		v.Route, v.Err = p.Plan(st)
		if v.Err != nil && strings.Contains(v.Err.Error(), "VT09015") {
			// Vitess needs the tables' columns to merge a scatter's rows
			// (SELECT * … ORDER BY); vtgate's schema tracking, on by default,
			// knows them. Only a query to several shards asks for them.
			v.Route = Route{Plan: "Scatter", Why: "a scatter that needs schema tracking (" + v.Err.Error() + ")"}
			v.Err = nil
		}
		if v.Err == nil && !v.Single {
			v.Allowed, _ = allowed(st)
		}
		if v.Path != "test" && (v.Err != nil || (!v.Single && v.Allowed == "")) {
			v.Pending, _ = pending(st)
		}
		out = append(out, v)
	}
	return out
}
