package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/treue/treue/models"
)

// The loaders below read what processing needs for several customers at once:
// the inbox processor loads the customers of a whole batch in a handful of
// queries instead of a handful per delivery. Each returns a map by customer
// id, in the order the single-customer reads use.

// ProfilesOf loads the stored profiles of customers.
func (s *Store) ProfilesOf(ctx context.Context, ids []int64) (map[int64]*models.Profile, error) {
	out := make(map[int64]*models.Profile, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// What decodeProfile reads, scanned by hand.
	where, args := s.byCustomers("customers", "id", ids)
	err := s.each(ctx, "profiles", "SELECT id, public_id, stage, profile FROM customers"+where, args, func(rows *sql.Rows) error {
		var r customerRow
		if err := rows.Scan(&r.ID, &r.PublicID, &r.Stage, &r.Profile); err != nil {
			return err
		}
		p, err := decodeProfile(&r)
		out[r.ID] = p
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EventsOf loads the journeys of customers, each in source-time order.
func (s *Store) EventsOf(ctx context.Context, ids []int64) (map[int64][]EventRecord, error) {
	out := make(map[int64][]EventRecord, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	where, args := s.byCustomers("events", "customer_id", ids)
	err := s.each(ctx, "customer events", "SELECT "+eventColumns("events")+" FROM events"+where+" ORDER BY events.customer_id, events.occurred_at, events.id", args, func(rows *sql.Rows) error {
		var r EventRecord
		err := r.scan(rows)
		out[r.CustomerID] = append(out[r.CustomerID], r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EventStamp tells whether a customer's stored events changed: events are
// only ever added (with ids above every earlier one: auto-increment and
// Vitess sequences do not go back) or deleted, so the same count and
// highest id mean the same events.
type EventStamp struct {
	Count int
	MaxID int64
}

// EventStamps reads the stamps of customers' events from the customers'
// index, without reading the events; a customer without events has none.
func (s *Store) EventStamps(ctx context.Context, ids []int64) (map[int64]EventStamp, error) {
	out := make(map[int64]EventStamp, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	where, args := s.byCustomers("events", "customer_id", ids)
	err := s.each(ctx, "event stamps", "SELECT customer_id, COUNT(*), MAX(id) FROM events"+where+" GROUP BY customer_id", args, func(rows *sql.Rows) error {
		var id int64
		var st EventStamp
		err := rows.Scan(&id, &st.Count, &st.MaxID)
		out[id] = st
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OptOutsOf loads the opt-outs of customers, by category.
func (s *Store) OptOutsOf(ctx context.Context, ids []int64) (map[int64][]models.OptOutRecord, error) {
	out := make(map[int64][]models.OptOutRecord, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	where, args := s.byCustomers("opt_outs", "customer_id", ids)
	err := s.each(ctx, "opt-outs", "SELECT customer_id, category, source, created_at FROM opt_outs"+where+" ORDER BY customer_id, category", args, func(rows *sql.Rows) error {
		var id int64
		var o models.OptOutRecord
		err := rows.Scan(&id, &o.Category, &o.Source, &o.CreatedAt)
		out[id] = append(out[id], o)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ActionsOf loads every action of customers, by due time, without their
// params: planning reads the params of the actions it plans, not of these.
func (s *Store) ActionsOf(ctx context.Context, ids []int64) (map[int64][]models.Action, error) {
	out := make(map[int64][]models.Action, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// Every batch reads its customers' whole action history: scanned by
	// hand, without GORM's reflection, which allocated a value per column.
	// The rows come by customer: they go into one slice, which each
	// customer's part is cut from (capacity clipped, so that appending to
	// one part never overwrites the next), instead of a slice per customer
	// grown row by row. One row is scanned into: Scan's pointers made it
	// escape, an allocation per row.
	var all []models.Action
	var r ActionRow
	where, args := s.byCustomers("actions", "customer_id", ids)
	err := s.each(ctx, "customer actions", "SELECT "+journeyActionColumns+" FROM actions"+where+" ORDER BY customer_id, due_at, id", args, func(rows *sql.Rows) error {
		r = ActionRow{}
		if err := rows.Scan(&r.ShopID, &r.ID, &r.PublicID, &r.CustomerID, &r.Type, &r.Status, &r.RuleID, &r.RulesVersion,
			&r.TriggerEventID, &r.DueAt, &r.IdempotencyKey, &r.Marketing, &r.OrderRef, &r.SKU, &r.Category,
			&r.Reason, &r.Attempts, &r.SentAt, &r.CreatedAt, &r.UpdatedAt, &r.CostCents); err != nil {
			return err
		}
		a, err := r.Action()
		all = append(all, a)
		return err
	})
	if err != nil {
		return nil, err
	}
	for start := 0; start < len(all); {
		end := start + 1
		for end < len(all) && all[end].CustomerID == all[start].CustomerID {
			end++
		}
		out[all[start].CustomerID] = all[start:end:end]
		start = end
	}
	return out, nil
}

// scanIdentities reads the identities q selects (without created_at),
// scanned by hand: every batch resolves its customers through them.
func scanIdentities(q *gorm.DB) ([]identityRow, error) {
	rows, err := q.Table("customer_identities").Select("shop_id, kind, value, customer_id").Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identityRow
	for rows.Next() {
		var r identityRow
		if err := rows.Scan(&r.ShopID, &r.Kind, &r.Value, &r.CustomerID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// journeyActionColumns are the columns ActionsOf scans, in its order: what
// models.Action holds but params, which planning does not read.
const journeyActionColumns = "shop_id, id, public_id, customer_id, type, status, rule_id, rules_version, trigger_event_id, due_at, " +
	"idempotency_key, marketing, order_ref, sku, category, reason, attempts, sent_at, created_at, updated_at, cost_cents"

// LedgerEntry is one booking of a customer's points, with when the event
// whose action booked it happened (nil when that is not known).
type LedgerEntry struct {
	CustomerID int64
	ActionID   int64
	Delta      int64
	EventAt    *time.Time
}

// LedgerOf loads the points ledgers of customers.
func (s *Store) LedgerOf(ctx context.Context, ids []int64) (map[int64][]LedgerEntry, error) {
	out := make(map[int64][]LedgerEntry, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	where, args := s.byCustomers("points_ledger", "customer_id", ids)
	err := s.each(ctx, "points ledger", "SELECT points_ledger.customer_id, points_ledger.action_id, points_ledger.delta, events.occurred_at FROM points_ledger"+
		" LEFT JOIN actions ON actions.shop_id = points_ledger.shop_id AND actions.id = points_ledger.action_id"+
		" LEFT JOIN events ON events.shop_id = actions.shop_id AND events.id = actions.trigger_event_id"+where+" ORDER BY points_ledger.id", args, func(rows *sql.Rows) error {
		var l LedgerEntry
		err := rows.Scan(&l.CustomerID, &l.ActionID, &l.Delta, &l.EventAt)
		out[l.CustomerID] = append(out[l.CustomerID], l)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CustomerKey is a customer reference within a shop, as an event gives it.
type CustomerKey struct {
	ShopID int64
	Ref    models.CustomerRef
	// Order is the shop's order id the event names, if any. An order Treue
	// knows decides the customer, whatever Ref says: a follow-up's e-mail
	// may differ from the one of the account that placed the order.
	Order string
	// WaitForOrder answers 0 instead of resolving Ref when Order is not
	// known yet, for a follow-up that arrived before its order.
	WaitForOrder bool
}

type identityKey struct {
	shop        int64
	kind, value string
}

// ResolveCustomers resolves keys in order exactly as ResolveCustomer would
// one after the other (creating and linking on the way), but with one read
// of the orders named, one of the identities involved, one of the
// candidates' identities, and one locking read of the customers found, in id
// order. A customer created concurrently answers ErrRetry.
//
// A key whose order is known (stored, or named by an earlier key) resolves
// to that order's customer and links nothing. A key whose order is not
// known resolves by its identities, or to 0 when it has none or WaitForOrder
// is set: the caller waits for the order.
func (s *Store) ResolveCustomers(ctx context.Context, keys []CustomerKey) ([]int64, error) {
	ids, _, err := s.resolveCustomers(ctx, keys)
	return ids, err
}

type orderKey struct {
	shop  int64
	order string
}

// orderOwners maps the orders keys name to the customer of each order's
// first stored event.
func (s *Store) orderOwners(ctx context.Context, keys []CustomerKey) (map[orderKey]int64, error) {
	owners := map[orderKey]int64{}
	seen := map[orderKey]bool{}
	byShop := map[int64][]string{}
	for _, k := range keys {
		ord := orderKey{k.ShopID, k.Order}
		if k.Order != "" && !seen[ord] {
			seen[ord] = true
			byShop[k.ShopID] = append(byShop[k.ShopID], k.Order)
		}
	}
	if len(byShop) == 0 {
		return owners, nil
	}
	var conds []string
	var args []any
	for shop, orders := range byShop {
		conds = append(conds, "(shop_id = ? AND order_ref IN ?)")
		args = append(args, shop, orders)
	}
	var rows []EventRecord
	err := s.scoped(ctx, "events").Select("shop_id, order_ref, customer_id").
		Where(strings.Join(conds, " OR "), args...).Order("id").Find(&rows).Error
	if err != nil {
		return nil, translate("customers of orders", err)
	}
	for _, r := range rows {
		ord := orderKey{r.ShopID, r.OrderRef}
		if _, taken := owners[ord]; !taken {
			owners[ord] = r.CustomerID
		}
	}
	return owners, nil
}

// resolveCustomers is ResolveCustomers, with the customers' public ids.
func (s *Store) resolveCustomers(ctx context.Context, keys []CustomerKey) ([]int64, []string, error) {
	out := make([]int64, len(keys))
	public := make([]string, len(keys))
	if len(keys) == 0 {
		return out, public, nil
	}
	db := s.db.WithContext(ctx)
	// Who owns each identity the keys name.
	owner := map[identityKey]int64{}
	var conds []string
	var args []any
	for _, k := range keys {
		for _, x := range models.Identities(k.Ref) {
			ik := identityKey{k.ShopID, x.Kind, x.Value}
			if _, ok := owner[ik]; ok {
				continue
			}
			owner[ik] = 0
			conds = append(conds, "(shop_id = ? AND kind = ? AND value = ?)")
			args = append(args, k.ShopID, x.Kind, x.Value)
		}
	}
	for ik, id := range owner {
		if id == 0 {
			delete(owner, ik)
		}
	}
	var found []identityRow
	var err error
	if len(conds) > 0 {
		// On a scoped store shop_id = ? stands beside the OR: Vitess routes
		// by it, not by the shop_id of each alternative.
		found, err = scanIdentities(s.scoped(ctx, "customer_identities").Where(strings.Join(conds, " OR "), args...))
		if err != nil {
			return nil, nil, translate("resolve customers", err)
		}
	}
	orders, err := s.orderOwners(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	// Every identity of the customers found and of the orders' customers,
	// for the compatibility check.
	have := map[int64][]models.Identity{}
	var cands []int64
	candidate := func(id int64) {
		if _, ok := have[id]; !ok {
			have[id] = nil
			cands = append(cands, id)
		}
	}
	for _, f := range found {
		owner[identityKey{f.ShopID, f.Kind, f.Value}] = f.CustomerID
		candidate(f.CustomerID)
	}
	for _, id := range orders {
		candidate(id)
	}
	if len(cands) > 0 {
		rows, err := scanIdentities(s.scoped(ctx, "customer_identities").Where("customer_id IN ?", cands))
		if err != nil {
			return nil, nil, translate("customer identities", err)
		}
		for _, r := range rows {
			have[r.CustomerID] = append(have[r.CustomerID], models.Identity{Kind: r.Kind, Value: r.Value})
		}
	}
	now := s.Now()
	lock := map[int64]bool{}
	var created []newCustomer
	for i, k := range keys {
		ord := orderKey{k.ShopID, k.Order}
		ids := models.Identities(k.Ref)
		id := orders[ord]
		if id != 0 && !agrees(have[id], ids) {
			// The order decides; identities that contradict the order's
			// customer (another e-mail on the order) are not linked to them.
			out[i] = id
			lock[id] = true
			continue
		}
		if id == 0 {
			if k.Order == "" && len(ids) == 0 {
				return nil, nil, fmt.Errorf("store: resolve customer: %w", models.ErrInvalid)
			}
			if len(ids) == 0 || (k.Order != "" && k.WaitForOrder) {
				continue // 0: the order is not known yet
			}
			for _, x := range ids {
				cand, ok := owner[identityKey{k.ShopID, x.Kind, x.Value}]
				if ok && compatibleWith(have[cand], ids, x.Kind) {
					id = cand
					break
				}
			}
		}
		if id == 0 {
			// Identities another customer already owns stay theirs.
			var fresh []models.Identity
			for _, x := range ids {
				if _, taken := owner[identityKey{k.ShopID, x.Kind, x.Value}]; !taken {
					fresh = append(fresh, x)
				}
			}
			// Created after the loop, all in two statements: until then the
			// new customer goes by a provisional id below zero.
			newID := -int64(len(created) + 1)
			created = append(created, newCustomer{shopID: k.ShopID, publicID: uuid.NewString(), ids: fresh})
			for _, x := range fresh {
				owner[identityKey{k.ShopID, x.Kind, x.Value}] = newID
			}
			have[newID] = slices.Clone(fresh)
			out[i], public[i] = newID, created[len(created)-1].publicID
			if k.Order != "" {
				orders[ord] = newID
			}
			continue
		}
		for _, x := range ids {
			ik := identityKey{k.ShopID, x.Kind, x.Value}
			if _, ok := owner[ik]; ok {
				continue
			}
			if id < 0 {
				// A customer this batch creates: its identity is stored with
				// the others. Nobody had it when they were read, so a
				// duplicate is a concurrent transaction's, as in createCustomer.
				created[-id-1].ids = append(created[-id-1].ids, x)
				owner[ik] = id
				have[id] = append(have[id], x)
				continue
			}
			// Another customer may own this identity already; then it stays theirs.
			res := db.Clauses(s.skipDuplicate("kind")).Create(&identityRow{ShopID: k.ShopID, Kind: x.Kind, Value: x.Value, CustomerID: id, CreatedAt: now})
			if res.Error != nil {
				return nil, nil, translate("link identity", res.Error)
			}
			if res.RowsAffected == 1 {
				owner[ik] = id
				have[id] = append(have[id], x)
			}
		}
		out[i] = id
		lock[id] = true
		if k.Order != "" {
			orders[ord] = id
		}
	}
	if len(created) > 0 {
		ids, err := s.createCustomers(ctx, created, now)
		if err != nil {
			return nil, nil, err
		}
		for i, id := range out {
			if id < 0 {
				out[i] = ids[-id-1]
			}
		}
	}
	ids := make([]int64, 0, len(lock))
	for id := range lock {
		if id > 0 { // below zero: created here, this transaction's already
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		slices.Sort(ids)
		var locked []customerRow
		cond, shop := s.shopCond("customers")
		if err := db.Raw("SELECT id, public_id FROM customers"+s.byPrimary()+" WHERE id IN ?"+cond+" ORDER BY id"+s.forUpdate(false), append([]any{ids}, shop...)...).Scan(&locked).Error; err != nil {
			return nil, nil, translate("lock customers", err)
		}
		if len(locked) != len(ids) {
			return nil, nil, fmt.Errorf("store: resolve customers: a customer was removed meanwhile: %w", ErrRetry)
		}
		byID := make(map[int64]string, len(locked))
		for _, c := range locked {
			byID[c.ID] = c.PublicID
		}
		for i, id := range out {
			if public[i] == "" {
				public[i] = byID[id]
			}
		}
	}
	return out, public, nil
}

// newCustomer is a customer resolveCustomers creates, with the identities
// nobody else had.
type newCustomer struct {
	shopID   int64
	publicID string
	ids      []models.Identity
}

// createCustomers stores the customers a batch met for the first time and
// their identities, in one statement each (a batch of new shoppers took
// three per customer), and returns their ids in order. A duplicate identity
// was stored by a concurrent transaction since it was read: ErrRetry.
func (s *Store) createCustomers(ctx context.Context, cs []newCustomer, now time.Time) ([]int64, error) {
	ids := make([]int64, len(cs))
	if s.idStep != 1 {
		// One row per statement where ids are not consecutive (createRows).
		for i, c := range cs {
			id, _, err := s.createCustomer(ctx, c.shopID, c.publicID, c.ids)
			if err != nil {
				return nil, err
			}
			ids[i] = id
		}
		return ids, nil
	}
	profile := "{}"
	stage := string(models.StageNew)
	ids, err := s.insertRows(ctx, "create customers", "customers", customerInsertColumns, len(cs), func(i int, v []any) []any {
		return append(v, cs[i].shopID, cs[i].publicID, stage, 0, 0, 0, nil, false, profile, now, now)
	})
	if err != nil {
		return nil, err
	}
	type link struct {
		customer int
		models.Identity
	}
	var links []link
	for i, c := range cs {
		for _, x := range c.ids {
			links = append(links, link{i, x})
		}
	}
	_, err = s.insertRows(ctx, "create identities", "customer_identities", identityInsertColumns, len(links), func(i int, v []any) []any {
		l := links[i]
		return append(v, cs[l.customer].shopID, l.Kind, l.Value, ids[l.customer], now)
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, fmt.Errorf("store: create customers: %w", ErrRetry)
	}
	return ids, err
}

// The columns createCustomers sets, in the order of its values.
var (
	customerInsertColumns = []string{"shop_id", "public_id", "stage", "order_count", "positive_order_count", "total_spent_cents",
		"last_order_at", "marketing_consent", "profile", "created_at", "updated_at"}
	identityInsertColumns = []string{"shop_id", "kind", "value", "customer_id", "created_at"}
)

// agrees reports whether none of ids contradicts an identity of the same
// kind among have.
func agrees(have, ids []models.Identity) bool {
	for _, x := range ids {
		for _, h := range have {
			if h.Kind == x.Kind && h.Value != x.Value {
				return false
			}
		}
	}
	return true
}

// compatibleWith reports whether a candidate customer with identities have,
// matched through kind, has no stronger identity that contradicts ids.
func compatibleWith(have, ids []models.Identity, kind string) bool {
	if kind == models.IdentityID {
		return true
	}
	for _, x := range ids {
		if x.Kind == kind {
			return true // reached the matching kind: nothing stronger disagrees
		}
		for _, h := range have {
			if h.Kind == x.Kind && h.Value != x.Value {
				return false
			}
		}
	}
	return true
}

// SaveProfiles stores the derived profiles of several customers in one
// statement, as SaveProfile does for one.
func (s *Store) SaveProfiles(ctx context.Context, ps []*models.Profile) error {
	if len(ps) == 0 {
		return nil
	}
	cols := []struct {
		name  string
		value func(p *models.Profile, b []byte) any
	}{
		{"stage", func(p *models.Profile, _ []byte) any { return string(p.Stage) }},
		{"order_count", func(p *models.Profile, _ []byte) any { return p.OrderCount }},
		{"positive_order_count", func(p *models.Profile, _ []byte) any { return p.PositiveOrderCount }},
		{"total_spent_cents", func(p *models.Profile, _ []byte) any { return p.TotalSpentCents }},
		{"last_order_at", func(p *models.Profile, _ []byte) any { return p.LastOrderAt }},
		{"marketing_consent", func(p *models.Profile, _ []byte) any { return p.MarketingConsent }},
		{"profile", func(_ *models.Profile, b []byte) any { return string(b) }},
	}
	docs := make([][]byte, len(ps))
	ids := make([]int64, len(ps))
	for i, p := range ps {
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("store: profile: %w", err)
		}
		docs[i], ids[i] = b, p.CustomerID
	}
	var sb strings.Builder
	var args []any
	sb.WriteString("UPDATE customers SET ")
	for _, c := range cols {
		sb.WriteString(c.name + " = CASE id")
		for i, p := range ps {
			sb.WriteString(" WHEN ? THEN ?")
			args = append(args, p.CustomerID, c.value(p, docs[i]))
		}
		sb.WriteString(" END, ")
	}
	cond, shop := s.shopCond("customers")
	sb.WriteString("updated_at = ? WHERE id IN (" + placeholders(len(ids)) + ")" + cond)
	args = appendArgs(append(args, s.Now()), ids)
	_, err := s.exec(ctx, "save profiles", sb.String(), append(args, shop...)...)
	return err
}

// The writers below store what a processing batch decided, one statement per
// kind. Unlike their single-row counterparts they do not skip a row that
// conflicts with a stored one: the batch checked its own state for that, so a
// conflict means it did not see the whole picture, and the error
// (models.ErrDuplicate) tells the caller to run the batch the careful way.

// InsertEvents stores events in one statement and sets their ids, in order.
func (s *Store) InsertEvents(ctx context.Context, rs []*EventRecord) error {
	if len(rs) == 0 {
		return nil
	}
	if s.idStep != 1 {
		return createRows(ctx, s, "insert events", rs)
	}
	for _, r := range rs {
		if err := r.BeforeCreate(nil); err != nil { // as GORM's Create calls it
			return err
		}
	}
	ids, err := s.insertRows(ctx, "insert events", "events", eventInsertColumns, len(rs), func(i int, v []any) []any {
		r := rs[i]
		return append(v, r.ShopID, r.CustomerID, r.Type, r.StepKey, r.OccurredAt, r.ReceivedAt, r.Platform, r.InboxID, r.DeliveryID,
			r.OrderRef, r.Data, r.Amount, r.Currency, r.Coupon, r.TestOrder, r.PlacedAt)
	})
	for i, id := range ids {
		rs[i].ID = id
	}
	return err
}

// The columns the batch's INSERTs set, in the order of their values: all
// but the id the database gives.
var (
	eventInsertColumns  = withoutID(eventFields)
	actionInsertColumns = withoutID(actionFields)
)

func withoutID(cols []string) []string {
	return slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return c == "id" })
}

// exec runs a statement on the store's connection (its transaction, within
// InTx) without GORM, which builds a statement's text again and allocates
// for each of its arguments: the writes of every batch, whose SQL is built
// here. The statement recorder is told of it as of GORM's.
func (s *Store) exec(ctx context.Context, op, q string, args ...any) (sql.Result, error) {
	begin := time.Now()
	res, err := s.db.WithContext(ctx).Statement.ConnPool.ExecContext(ctx, q, args...)
	s.record(ctx, q, args...)
	s.trace(ctx, begin, q, res, err)
	if err != nil {
		if t, ok := s.db.Dialector.(gorm.ErrorTranslator); ok {
			err = t.Translate(err) // a duplicate key as GORM's statements report it
		}
		return nil, translate(op, err)
	}
	return res, nil
}

// query runs a query on the store's connection without GORM, as exec does;
// the caller closes the rows.
func (s *Store) query(ctx context.Context, op, q string, args ...any) (*sql.Rows, error) {
	begin := time.Now()
	rows, err := s.db.WithContext(ctx).Statement.ConnPool.QueryContext(ctx, q, args...)
	s.record(ctx, q, args...)
	s.trace(ctx, begin, q, nil, err)
	if err != nil {
		return nil, translate(op, err)
	}
	return rows, nil
}

// byCustomers is the condition and arguments of a batch loader's query:
// table's rows of customers ids, within the store's shop if it has one.
func (s *Store) byCustomers(table, column string, ids []int64) (string, []any) {
	cond, shop := s.shopCond(table)
	args := appendArgs(make([]any, 0, len(ids)+len(shop)), ids)
	return " WHERE " + table + "." + column + " IN (" + placeholders(len(ids)) + ")" + cond, append(args, shop...)
}

// each runs a query built here and calls row for every row it returns,
// with every error translated for op.
func (s *Store) each(ctx context.Context, op, q string, args []any, row func(*sql.Rows) error) error {
	rows, err := s.query(ctx, op, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return translate(op, err)
		}
	}
	return translate(op, rows.Err())
}

// trace tells GORM's logger of a statement sent without GORM, so that a slow
// one is logged as GORM's are (database.slow_query); a query's rows are not
// counted (-1).
func (s *Store) trace(ctx context.Context, begin time.Time, q string, res sql.Result, err error) {
	s.db.Logger.Trace(ctx, begin, func() (string, int64) {
		if res == nil {
			return q, -1
		}
		n, _ := res.RowsAffected()
		return q, n
	}, err)
}

// placeholders is "?, ?, ?" for n arguments.
// appendArgs appends xs to a hand-built statement's arguments.
func appendArgs[T any](args []any, xs []T) []any {
	for _, x := range xs {
		args = append(args, x)
	}
	return args
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// insertRows inserts n rows into table with one statement of fixed shape
// and returns their ids in order, without GORM's reflection: every batch
// stores its events and actions through it. One INSERT of several rows gets
// consecutive ids (the caller checked that the server steps them by one):
// MySQL reports the first, SQLite the last.
func (s *Store) insertRows(ctx context.Context, op, table string, cols []string, n int, values func(i int, v []any) []any) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	var b strings.Builder
	row := "(" + strings.Repeat("?, ", len(cols)-1) + "?)"
	b.Grow(len(table) + 20*len(cols) + n*(len(row)+2))
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	args := make([]any, 0, n*len(cols))
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
		args = values(i, args)
	}
	if len(args) != n*len(cols) {
		return nil, fmt.Errorf("store: %s: %d values for %d rows of %d columns", op, len(args), n, len(cols))
	}
	res, err := s.exec(ctx, op, b.String(), args...)
	if err != nil {
		return nil, err
	}
	last, err := res.LastInsertId()
	if err != nil {
		return nil, translate(op, err)
	}
	first := last
	if s.driver != "mysql" {
		first = last - int64(n) + 1
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = first + int64(i)
	}
	return ids, nil
}

// createRows inserts rows and sets their ids. One INSERT of several rows
// gets consecutive ids, which GORM counts on to set them; where the server
// steps its ids by more than one (Galera, multi-primary setups), each row
// gets a statement of its own.
func createRows[T any](ctx context.Context, s *Store, op string, rows []*T) error {
	if s.idStep == 1 {
		return translate(op, s.db.WithContext(ctx).Create(rows).Error)
	}
	for _, r := range rows {
		if err := s.db.WithContext(ctx).Create(r).Error; err != nil {
			return translate(op, err)
		}
	}
	return nil
}

// InsertActions stores actions in one statement and sets their ids (and
// public ids where they have none), in order.
func (s *Store) InsertActions(ctx context.Context, as []*models.Action) error {
	if len(as) == 0 {
		return nil
	}
	now := s.Now()
	rows := make([]*ActionRow, len(as))
	for i, a := range as {
		r, err := newActionRow(a, now)
		if err != nil {
			return err
		}
		rows[i] = r
	}
	if s.idStep != 1 {
		if err := createRows(ctx, s, "insert actions", rows); err != nil {
			return err
		}
	} else {
		ids, err := s.insertRows(ctx, "insert actions", "actions", actionInsertColumns, len(rows), func(i int, v []any) []any {
			r := rows[i]
			return append(v, r.ShopID, r.PublicID, r.CustomerID, r.Type, r.Status, r.RuleID, r.RulesVersion, r.TriggerEventID,
				r.DueAt, r.NextAttemptAt, r.IdempotencyKey, r.Marketing, r.OrderRef, r.SKU, r.Category, r.Params, r.Reason, r.Attempts,
				r.LeaseOwner, r.LeaseUntil, r.SentAt, r.ExternalRef, r.CreatedAt, r.UpdatedAt, r.CostCents)
		})
		if err != nil {
			return err
		}
		for i, id := range ids {
			rows[i].ID = id
		}
	}
	for i, a := range as {
		a.ID, a.PublicID, a.CreatedAt, a.UpdatedAt = rows[i].ID, rows[i].PublicID, now, now
	}
	return nil
}

// Booking is one entry of the points ledger: delta points for an action.
type Booking struct {
	ShopID, CustomerID, ActionID, Delta int64
	Reason                              string
}

// BookPoints adds ledger entries in one statement.
func (s *Store) BookPoints(ctx context.Context, bs []Booking) error {
	if len(bs) == 0 {
		return nil
	}
	now := s.Now()
	rows := make([]pointsRow, len(bs))
	for i, b := range bs {
		rows[i] = pointsRow{ShopID: b.ShopID, CustomerID: b.CustomerID, ActionID: b.ActionID, Delta: b.Delta, Reason: b.Reason, CreatedAt: now}
	}
	return translate("book points", s.db.WithContext(ctx).Create(&rows).Error)
}

// CancelActions cancels actions with one reason, as CancelAction does, and
// returns how many were still open to be cancelled.
func (s *Store) CancelActions(ctx context.Context, ids []int64, reason string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res := s.scoped(ctx, "actions").Model(&ActionRow{}).
		Where("id IN ? AND status IN ?", ids, cancellable).
		Updates(map[string]any{"status": string(models.ActionCancelled), "reason": reason, "lease_owner": nil, "lease_until": nil, "updated_at": s.Now()})
	return res.RowsAffected, translate("cancel actions", res.Error)
}

// eventFields are the columns of events in EventRecord's order.
var eventFields = []string{"shop_id", "id", "customer_id", "type", "step_key", "occurred_at", "received_at", "platform", "inbox_id",
	"delivery_id", "order_ref", "data", "amount", "currency", "coupon", "test_order", "placed_at"}

// eventColumns is the select list of every EventRecord column, qualified
// by table, in the order scanEvents reads.
func eventColumns(table string) string {
	return table + "." + strings.Join(eventFields, ", "+table+".")
}

// scan reads a row selected with eventColumns.
func (r *EventRecord) scan(rows *sql.Rows) error {
	return rows.Scan(&r.ShopID, &r.ID, &r.CustomerID, &r.Type, &r.StepKey, &r.OccurredAt, &r.ReceivedAt, &r.Platform, &r.InboxID,
		&r.DeliveryID, &r.OrderRef, &r.Data, &r.Amount, &r.Currency, &r.Coupon, &r.TestOrder, &r.PlacedAt)
}

// actionFields are the columns of actions in ActionRow's order.
var actionFields = []string{"shop_id", "id", "public_id", "customer_id", "type", "status", "rule_id", "rules_version", "trigger_event_id",
	"due_at", "next_attempt_at", "idempotency_key", "marketing", "order_ref", "sku", "category", "params", "reason", "attempts",
	"lease_owner", "lease_until", "sent_at", "external_ref", "created_at", "updated_at", "cost_cents"}

// actionColumns is the select list of every ActionRow column, qualified, in
// the order of fields.
var actionColumns = "actions." + strings.Join(actionFields, ", actions.")

// fields are the scan destinations of actionColumns.
func (r *ActionRow) fields() []any {
	return []any{&r.ShopID, &r.ID, &r.PublicID, &r.CustomerID, &r.Type, &r.Status, &r.RuleID, &r.RulesVersion, &r.TriggerEventID, &r.DueAt,
		&r.NextAttemptAt, &r.IdempotencyKey, &r.Marketing, &r.OrderRef, &r.SKU, &r.Category, &r.Params, &r.Reason, &r.Attempts, &r.LeaseOwner,
		&r.LeaseUntil, &r.SentAt, &r.ExternalRef, &r.CreatedAt, &r.UpdatedAt, &r.CostCents}
}
