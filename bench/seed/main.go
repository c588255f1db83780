// Command seed fills a Treue database with realistic customer journeys for
// benchmarks and for trying the console on a large data set:
//
//	go run ./bench/seed --driver mysql --dsn 'root:@tcp(127.0.0.1:3306)/treue_seed?parseTime=true' \
//	    --shop acme --customers 100000 --events 1000000
//
// It writes through the store package (ResolveCustomer, InsertEvent,
// SaveProfile, InsertAction, AddPoints), 1,000 customers per transaction, in
// a few parallel workers. Every run has its own run id, which is part of every
// customer id, order id and action key, so running it twice adds a second set
// of customers and never touches the first; rerunning with the same --run adds
// nothing that is already there. The MySQL database is created when missing.
// The event total is an upper bound that the run comes within a few events of.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite", for the final counts
	gomysql "github.com/go-sql-driver/mysql"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/security"
)

// defaultKey only seals the seeded shop's webhook secret; a server that reads
// the database must use the same key (TREUE_SECURITY_SECRET_KEY).
const defaultKey = "treue-bench-seed-key-not-for-production-use"

type config struct {
	driver, dsn, shop, key, run string
	customers, events           int
	batch, workers              int
	seed                        uint64
	createDB                    bool
	holdout, effect             float64
}

func main() {
	var c config
	flag.StringVar(&c.driver, "driver", "mysql", "database driver: mysql or sqlite")
	flag.StringVar(&c.dsn, "dsn", "root:@tcp(127.0.0.1:3306)/treue_seed?parseTime=true", "database DSN (a file path for sqlite)")
	flag.StringVar(&c.shop, "shop", "acme", "shop key; the shop is created when missing")
	flag.IntVar(&c.customers, "customers", 100000, "customers to add")
	flag.IntVar(&c.events, "events", 1000000, "journey events to add in all (at least one per customer)")
	flag.IntVar(&c.batch, "batch", 1000, "customers per transaction")
	flag.IntVar(&c.workers, "workers", 3, "parallel transactions (always 1 on sqlite)")
	flag.StringVar(&c.key, "secret-key", envOr("TREUE_SECURITY_SECRET_KEY", defaultKey), "security.secret_key (at least 32 characters; default $TREUE_SECURITY_SECRET_KEY)")
	flag.StringVar(&c.run, "run", "", "run id, part of every seeded id (default: derived from the clock)")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed for the journeys")
	flag.BoolVar(&c.createDB, "create-db", true, "create the MySQL database when it does not exist")
	flag.Float64Var(&c.holdout, "holdout-percent", 5, "share of customers (percent) whose marketing actions are held back for the holdout group, as holdout_percent does")
	flag.Float64Var(&c.effect, "effect", 0, "a planted effect for trying the rules report: each repeat order of a holdout customer is left out with this probability (0-1), so the treated customers reorder more")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, c config) error {
	if c.customers < 1 || c.events < c.customers {
		return fmt.Errorf("need --customers ≥ 1 and --events ≥ --customers (got %d and %d)", c.customers, c.events)
	}
	if c.batch < 1 {
		c.batch = 1
	}
	if c.driver == "sqlite" || c.workers < 1 {
		c.workers = 1
	}
	if c.run == "" {
		c.run = "r" + strconv.FormatInt(time.Now().Unix(), 36)
	}
	if !validRun(c.run) {
		return fmt.Errorf("--run %q: use 1-16 characters of a-z and 0-9", c.run)
	}
	sealer, err := security.NewSealer(c.key)
	if err != nil {
		return err
	}
	if c.driver == "mysql" && c.createDB {
		if err := createDatabase(ctx, c.dsn); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, store.Config{Driver: c.driver, DSN: c.dsn, MaxOpenConns: c.workers + 2, MaxIdleConns: c.workers + 2, ConnMaxLifetime: 5 * time.Minute}, sealer, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	shop, err := ensureShop(ctx, st, c.shop)
	if err != nil {
		return err
	}
	fmt.Printf("database schema at version %d; shop %s (id %d); run %s\n", v, shop.Key, shop.ID, c.run)
	fmt.Printf("adding %d customers with %d events; customer e-mails are c0000000.%s@seed.example (c%%07d)\n", c.customers, c.events, c.run)

	if c.holdout < 0 || c.holdout > 100 || c.effect < 0 || c.effect > 1 {
		return errors.New("--holdout-percent must be 0-100 and --effect 0-1")
	}
	g := newGenerator(c.run, c.seed, time.Now().UTC())
	g.holdout, g.effect = c.holdout, c.effect
	batches := make(chan []plan, c.workers)
	var total, written counts // committed, and written in transactions still open
	start := time.Now()
	errc := make(chan error, c.workers+1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// One producer plans the journeys, so that the event total comes out exact.
	go func() {
		defer close(batches)
		remaining := c.events
		var b []plan
		for i := 0; i < c.customers; i++ {
			left := c.customers - i
			p := g.plan(i, float64(remaining)/float64(left))
			if limit := remaining - (left - 1); len(p.events) > limit {
				p.events = p.events[:limit] // keep at least one event for each customer still to come
			}
			remaining -= len(p.events)
			b = append(b, p)
			if len(b) == c.batch || i == c.customers-1 {
				select {
				case batches <- b:
				case <-ctx.Done():
					return
				}
				b = nil
			}
		}
	}()
	var wg sync.WaitGroup
	for range c.workers {
		wg.Go(func() {
			for b := range batches {
				n, err := seedBatch(ctx, st, shop, g, b, &written)
				if err != nil {
					errc <- err
					cancel()
					return
				}
				total.add(n)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-tick.C:
			n := written.load()
			el := time.Since(start).Seconds()
			fmt.Printf("  %7d/%d customers  %8d events  %7d actions  %6.0f events/s  (%d customers committed)\n",
				n.customers, c.customers, n.events, n.actions, float64(n.events)/el, total.load().customers)
		}
	}
	select {
	case err := <-errc:
		return err
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n := total.load()
	el := time.Since(start)
	fmt.Printf("added %d customers, %d events, %d actions, %d points entries in %s (%.0f events/s)\n",
		n.customers, n.events, n.actions, n.points, el.Round(time.Second), float64(n.events)/el.Seconds())
	return printTotals(ctx, c, shop)
}

func validRun(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func createDatabase(ctx context.Context, dsn string) error {
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		return fmt.Errorf("--dsn: %w", err)
	}
	name := cfg.DBName
	if name == "" {
		return errors.New("--dsn names no database")
	}
	if strings.ContainsAny(name, "`'\" ;") {
		return fmt.Errorf("--dsn: database name %q is not usable here", name)
	}
	cfg.DBName = ""
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func ensureShop(ctx context.Context, st *store.Store, key string) (*models.Shop, error) {
	sh, err := st.ShopByKey(ctx, key)
	if err == nil {
		return sh, nil
	}
	if !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	sh = &models.Shop{Key: key, Platform: models.PlatformStandard, Name: "Seeded shop " + key, Timezone: "Europe/Berlin",
		Currency: "EUR", Source: "cli", Secrets: models.ShopSecrets{Webhook: []string{"whsec_" + base64.StdEncoding.EncodeToString(secret)}}}
	if err := st.SaveShop(ctx, sh); err != nil {
		return nil, err
	}
	fmt.Printf("created shop %s\n", key)
	return sh, nil
}

type counts struct{ customers, events, actions, points atomic.Int64 }

type snapshot struct{ customers, events, actions, points int64 }

func (c *counts) add(n snapshot) {
	c.customers.Add(n.customers)
	c.events.Add(n.events)
	c.actions.Add(n.actions)
	c.points.Add(n.points)
}

func (c *counts) load() snapshot {
	return snapshot{c.customers.Load(), c.events.Load(), c.actions.Load(), c.points.Load()}
}

// seedBatch writes one batch of customers in one transaction, retrying the
// whole batch on a deadlock or a lost connection.
func seedBatch(ctx context.Context, st *store.Store, shop *models.Shop, g *generator, b []plan, progress *counts) (snapshot, error) {
	var n snapshot
	var err error
	for attempt := 1; attempt <= 5; attempt++ {
		n = snapshot{}
		err = st.InTx(ctx, func(tx *store.Store) error {
			for i := range b {
				m, err := g.write(ctx, tx, shop, &b[i])
				if err != nil {
					return fmt.Errorf("customer %s: %w", b[i].ref.ID, err)
				}
				n.customers++
				n.events += m.events
				n.actions += m.actions
				n.points += m.points
				if attempt == 1 {
					progress.add(snapshot{1, m.events, m.actions, m.points})
				}
			}
			return nil
		})
		if err == nil || !errors.Is(err, models.ErrUnavailable) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
	return n, err
}

func printTotals(ctx context.Context, c config, shop *models.Shop) error {
	dsn := c.dsn
	if c.driver == "mysql" {
		cfg, err := gomysql.ParseDSN(dsn)
		if err != nil {
			return err
		}
		cfg.ParseTime = true
		dsn = cfg.FormatDSN()
	}
	db, err := sql.Open(c.driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var parts []string
	for _, table := range []string{"customers", "customer_identities", "events", "actions", "points_ledger"} {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE shop_id = ?", shop.ID).Scan(&n); err != nil {
			return fmt.Errorf("count %s: %w", table, err)
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, table))
	}
	fmt.Printf("shop %s now holds %s\n", shop.Key, strings.Join(parts, ", "))
	return nil
}

// ---------- journeys ----------

type item struct {
	sku, category string
	cents         int64
}

var catalog = func() []item {
	var out []item
	for _, c := range []struct {
		cat   string
		skus  []string
		cents int64
	}{
		{"beans", []string{"BEAN-ESP-1KG", "BEAN-SIDAMO-500", "BEAN-HOUSE-1KG", "BEAN-DECAF-500", "BEAN-BRAZIL-250", "BEAN-KENYA-250"}, 1490},
		{"ground", []string{"GROUND-CLASSIC-500", "GROUND-MOKA-250", "GROUND-FILTER-500"}, 990},
		{"tea", []string{"TEA-EARL-100", "TEA-SENCHA-100", "TEA-ROOIBOS-100", "TEA-CHAI-200"}, 790},
		{"equipment", []string{"EQ-GRINDER-HAND", "EQ-KETTLE-GOOSE", "EQ-V60-02", "EQ-AEROPRESS"}, 3490},
		{"accessories", []string{"ACC-FILTER-100", "ACC-MUG-CERAMIC", "ACC-SCALE", "ACC-CLEAN-TABS"}, 590},
		{"gifts", []string{"GIFT-BOX-S", "GIFT-BOX-L", "GIFT-CARD-25"}, 2500},
	} {
		for k, s := range c.skus {
			out = append(out, item{s, c.cat, c.cents + int64(k)*200})
		}
	}
	return out
}()

type plan struct {
	index  int
	ref    models.CustomerRef
	events []models.Event
	orders map[string]*orderPlan
}

type orderPlan struct {
	id       string
	k        int // 0 for the customer's first order
	placed   time.Time
	cents    int64
	qty      int
	sku, cat string
	late     bool
	returned bool
	next     *time.Time // when the customer ordered again
}

type generator struct {
	run          string
	seed         uint64
	now          time.Time
	rulesVersion string
	// holdout is the percentage of customers held out; effect the chance
	// that a held-out customer's repeat order does not happen.
	holdout, effect float64
}

// heldOut places customer i in the holdout group, deterministically.
func (g *generator) heldOut(i int) bool {
	return g.holdout > 0 && float64(g.rnd(i+1<<41).IntN(10000)) < g.holdout*100
}

func newGenerator(run string, seed uint64, now time.Time) *generator {
	sum := sha256.Sum256([]byte("seed-rules-" + run))
	return &generator{run: run, seed: seed, now: now, rulesVersion: hex.EncodeToString(sum[:6])}
}

func (g *generator) rnd(i int) *mrand.Rand {
	return mrand.New(mrand.NewPCG(g.seed, uint64(i)*0x9e3779b97f4a7c15+1))
}

// plan draws customer i's journey; mean is the number of events the customer
// should have on average, which sets the number of orders (1-20, skewed).
func (g *generator) plan(i int, mean float64) plan {
	r := g.rnd(i)
	id := fmt.Sprintf("%s-%07d", g.run, i)
	ref := models.CustomerRef{ID: id, Number: fmt.Sprintf("N%s%07d", strings.ToUpper(g.run), i),
		Email: fmt.Sprintf("c%07d.%s@seed.example", i, g.run), FirstName: firstNames[r.IntN(len(firstNames))]}
	if r.IntN(3) == 0 {
		ref.Birthday = fmt.Sprintf("%04d-%02d-%02d", 1950+r.IntN(55), 1+r.IntN(12), 1+r.IntN(28))
	}
	const perOrder, perCustomer = 4.4, 0.9
	want := (mean - perCustomer) / perOrder
	n := 1
	if want > 1 {
		n = 1 + int(math.Round(r.ExpFloat64()*(want-1)))
	}
	n = min(max(n, 1), 20)
	p := plan{index: i, ref: ref, orders: map[string]*orderPlan{}}
	// The customer arrived between 3 years and 2 weeks ago, and orders at a
	// personal rhythm that fits the orders in before now.
	since := g.now.Add(-time.Duration(14+r.IntN(3*365-14)) * 24 * time.Hour).Add(time.Duration(r.IntN(86400)) * time.Second)
	span := g.now.Sub(since) - 36*time.Hour
	gap := span / time.Duration(n)
	cust := models.CustomerRef{ID: ref.ID, Number: ref.Number, Email: ref.Email, FirstName: ref.FirstName, Birthday: ref.Birthday}
	ev := func(t models.EventType, at time.Time, d models.EventData) {
		d.Customer = cust
		p.events = append(p.events, models.Event{Type: t, Timestamp: at.UTC().Truncate(time.Second), Data: d})
	}
	if r.IntN(10) < 3 {
		ev(models.CustomerRegistered, since.Add(-2*time.Hour), models.EventData{})
	}
	if r.IntN(10) < 6 {
		at := since.Add(-time.Hour)
		ev(models.ConsentGranted, at, models.EventData{Consent: &models.Consent{Channel: "email", At: &at}})
	}
	var prev *orderPlan
	t := since
	held := g.heldOut(i)
	for k := 0; k < n; k++ {
		if k > 0 {
			t = t.Add(time.Duration(float64(gap) * (0.6 + 0.8*r.Float64())))
			if t.After(g.now.Add(-2 * time.Hour)) {
				break
			}
			if held && g.effect > 0 && r.Float64() < g.effect {
				continue // the planted effect: without the loyalty actions, fewer repeat orders
			}
		}
		it := catalog[r.IntN(len(catalog))]
		if prev != nil && r.IntN(3) > 0 { // most reorder what they had
			it = item{prev.sku, prev.cat, prev.cents / int64(prev.qty)}
		}
		qty := 1 + r.IntN(3)
		o := &orderPlan{id: fmt.Sprintf("%s-o%07d-%02d", g.run, i, k), k: k, placed: t, qty: qty, sku: it.sku, cat: it.category, cents: it.cents * int64(qty)}
		if prev != nil {
			nt := t
			prev.next = &nt
		}
		prev = o
		p.orders[o.id] = o
		total := models.FormatCents(o.cents)
		placed := t
		ev(models.OrderPlaced, placed, models.EventData{Order: &models.Order{ID: o.id, Number: fmt.Sprintf("%d", 100000+i*20+k), PlacedAt: &placed,
			Currency: "EUR", Total: total, Items: []models.LineItem{{SKU: it.sku, Category: it.category, Quantity: qty, UnitPrice: models.FormatCents(it.cents)}}}})
		step := func(typ models.EventType, at time.Time, d models.EventData) bool {
			if at.After(g.now) {
				return false // not happened yet
			}
			if d.Order == nil {
				d.Order = &models.Order{ID: o.id}
			}
			ev(typ, at, d)
			return true
		}
		paid := placed.Add(time.Duration(1+r.IntN(30)) * time.Minute)
		if r.IntN(100) == 0 {
			step(models.OrderCancelled, paid, models.EventData{})
			continue
		}
		if !step(models.OrderPaid, paid, models.EventData{Order: &models.Order{ID: o.id, PaidAt: &paid}}) {
			continue
		}
		shipped := paid.Add(time.Duration(4+r.IntN(44)) * time.Hour)
		promised := shipped.Add(72 * time.Hour)
		if !step(models.ShipmentShipped, shipped, models.EventData{Shipment: &models.Shipment{ID: o.id + "-s", Carrier: carriers[r.IntN(len(carriers))],
			ShippedAt: &shipped, PromisedDeliveryAt: &promised}}) {
			continue
		}
		delivered := shipped.Add(time.Duration(20+r.IntN(60)) * time.Hour)
		if r.IntN(10) == 0 {
			delivered = promised.Add(time.Duration(6+r.IntN(60)) * time.Hour)
		}
		o.late = delivered.After(promised)
		if !step(models.ShipmentDelivered, delivered, models.EventData{Shipment: &models.Shipment{ID: o.id + "-s", DeliveredAt: &delivered}}) {
			continue
		}
		switch x := r.IntN(100); {
		case x < 8:
			o.returned = true
			req := delivered.Add(time.Duration(2+r.IntN(8)) * 24 * time.Hour)
			lines := []models.LineItem{{SKU: it.sku, Quantity: qty}}
			if !step(models.ReturnRequested, req, models.EventData{Return: &models.Return{ID: o.id + "-r", RequestedAt: &req, Reason: reasons[r.IntN(len(reasons))], Items: lines}}) {
				continue
			}
			rec := req.Add(time.Duration(3+r.IntN(5)) * 24 * time.Hour)
			if !step(models.ReturnReceived, rec, models.EventData{Return: &models.Return{ID: o.id + "-r", ReceivedAt: &rec, Items: lines}}) {
				continue
			}
			if r.IntN(10) < 6 {
				iss := rec.Add(time.Duration(1+r.IntN(48)) * time.Hour)
				step(models.RefundIssued, iss, models.EventData{Refund: &models.Refund{ID: o.id + "-f", Amount: total, Currency: "EUR", IssuedAt: &iss}})
			}
		case x < 18:
			at := delivered.Add(time.Duration(3+r.IntN(12)) * 24 * time.Hour)
			step(models.ReviewSubmitted, at, models.EventData{Review: &models.Review{ID: o.id + "-v", SKU: it.sku, Rating: 3 + r.IntN(3)}})
		case x < 19:
			at := delivered.Add(time.Duration(1+r.IntN(72)) * time.Hour)
			step(models.ComplaintOpened, at, models.EventData{Complaint: &models.Complaint{ID: o.id + "-c", Reason: "damaged parcel"}})
		}
	}
	slices.SortStableFunc(p.events, func(a, b models.Event) int { return a.OccurredAt().Compare(b.OccurredAt()) })
	return p
}

var (
	firstNames = []string{"Anna", "Ben", "Carla", "David", "Emma", "Felix", "Greta", "Hannes", "Ida", "Jonas", "Klara", "Leon", "Mia", "Noah", "Olga", "Paul"}
	carriers   = []string{"DHL", "DPD", "Hermes", "GLS", "UPS"}
	reasons    = []string{"too bitter", "wrong grind", "arrived damaged", "changed my mind", "not as described"}
)

type written struct{ events, actions, points int64 }

// write stores one planned customer: the customer, the events in time order
// with the actions a rule set like examples/rules.yaml would have planned (at
// the time they would have been planned), and the profile.
func (g *generator) write(ctx context.Context, tx *store.Store, shop *models.Shop, p *plan) (written, error) {
	var w written
	r := g.rnd(p.index + 1<<40)
	first := p.events[0].OccurredAt()
	tx.Now = func() time.Time { return first } // tx is this transaction's copy of the store
	custID, publicID, err := tx.ResolveCustomer(ctx, shop.ID, p.ref)
	if err != nil {
		return w, err
	}
	var history []models.Event
	var points int64
	skipped := false
	delivered := 0
	for k := range p.events {
		e := &p.events[k]
		data, err := json.Marshal(e.Data)
		if err != nil {
			return w, err
		}
		at := e.OccurredAt()
		received := at.Add(time.Duration(200+r.IntN(5000)) * time.Millisecond)
		rec := &store.EventRecord{ShopID: shop.ID, CustomerID: custID, Type: string(e.Type), StepKey: e.StepKey(),
			OccurredAt: at, ReceivedAt: received, Platform: string(models.PlatformStandard),
			DeliveryID: fmt.Sprintf("seed-%s-%d-%d", g.run, p.index, k), Data: string(data)}
		rec.Describe(e)
		ins, err := tx.InsertEvent(ctx, rec)
		if err != nil {
			return w, err
		}
		if !ins {
			skipped = true // already seeded under this --run
			continue
		}
		w.events++
		history = append(history, *e)
		if e.Type == models.ShipmentDelivered {
			delivered++
		}
		planned := received.Add(time.Duration(50+r.IntN(400)) * time.Millisecond)
		tx.Now = func() time.Time { return planned }
		for _, a := range g.actions(r, e, rec, p, delivered) {
			a.ShopID, a.CustomerID, a.RulesVersion, a.TriggerEventID = shop.ID, custID, g.rulesVersion, rec.ID
			ins, err := tx.InsertAction(ctx, &a)
			if err != nil {
				return w, err
			}
			if !ins {
				continue
			}
			w.actions++
			if delta, ok := a.Params["points"].(int64); ok && a.Status == models.ActionSent {
				if err := tx.AddPoints(ctx, shop.ID, custID, a.ID, delta, a.RuleID); err != nil {
					return w, err
				}
				points += delta
				w.points++
			}
		}
	}
	if skipped {
		recs, err := tx.CustomerEvents(ctx, custID)
		if err != nil {
			return w, err
		}
		history = history[:0]
		for i := range recs {
			e, err := recs[i].Event()
			if err != nil {
				return w, err
			}
			history = append(history, e)
		}
		if points, err = tx.PointsBalance(ctx, custID); err != nil {
			return w, err
		}
	}
	prof := journey.Build(history, g.now, journey.DefaultOptions)
	prof.CustomerID, prof.PublicID, prof.PointsBalance = custID, publicID, points
	switch {
	case points >= 500:
		prof.Tier = "gold"
	case points >= 150:
		prof.Tier = "silver"
	case points > 0:
		prof.Tier = "bronze"
	}
	if prof.ReferralCode == "" && r.IntN(4) == 0 {
		prof.ReferralCode = strings.ToUpper(fmt.Sprintf("%s-%04d", p.ref.FirstName, p.index%10000))
	}
	tx.Now = func() time.Time { return g.now }
	return w, tx.SaveProfile(ctx, &prof)
}

// actions plans what the example rules would for event e.
func (g *generator) actions(r *mrand.Rand, e *models.Event, rec *store.EventRecord, p *plan, delivered int) []models.Action {
	var o *orderPlan
	if e.Data.Order != nil {
		o = p.orders[e.Data.Order.ID]
	}
	if o == nil {
		return nil
	}
	at := e.OccurredAt()
	held := g.heldOut(p.index)
	act := func(typ models.ActionType, rule string, due time.Time, marketing bool, params map[string]any) models.Action {
		a := models.Action{Type: typ, RuleID: rule, DueAt: due, Marketing: marketing, OrderRef: o.id, SKU: o.sku, Category: o.cat,
			IdempotencyKey: rule + "|" + o.id, Params: params}
		switch {
		case marketing && held:
			a.Status, a.Reason = models.ActionSuppressed, "holdout"
		case !due.After(g.now):
			a.Status = models.ActionSent
		default:
			a.Status = models.ActionScheduled
		}
		return a
	}
	var out []models.Action
	switch e.Type {
	case models.OrderPaid:
		out = append(out, act(models.ActionPointsAward, "points-award", at, false, map[string]any{"reason": "purchase", "points": o.cents / 100}))
		// Reminders of older orders were mostly replaced by the next order.
		if o.next == nil || r.IntN(4) == 0 {
			due := at.Add(time.Duration(o.qty*30-5) * 24 * time.Hour)
			a := act(models.ActionReorderReminder, "reorder-reminder", due, true, map[string]any{"sku": o.sku})
			if o.next != nil && o.next.Before(due) && !held {
				a.Status, a.Reason = models.ActionCancelled, "same_sku_ordered"
			}
			out = append(out, a)
		}
	case models.ShipmentDelivered:
		if o.late {
			a := act(models.ActionPromoCode, "late-delivery-apology", at.Add(time.Hour), true, map[string]any{"percent": 10, "valid_for": "30d", "reason": "late_delivery"})
			switch x := r.IntN(100); {
			case x < 4 && a.Status == models.ActionSent:
				a.Status, a.Reason, a.Attempts = models.ActionDead, "shop answered 502 Bad Gateway 8 times", 8
			case x < 7 && a.Status == models.ActionSent:
				a.Status, a.Reason, a.Attempts = models.ActionRetrying, "shop answered 503 Service Unavailable", 2
			}
			out = append(out, a)
		}
		if delivered == 2 {
			out = append(out, act(models.ActionSampleGift, "second-purchase-sample", at.Add(2*time.Hour), true, map[string]any{"sku": "SAMPLE-" + o.sku}))
		}
		if r.IntN(5) < 2 {
			a := act(models.ActionReviewRequest, "review-request", at.Add(7*24*time.Hour), true, nil)
			switch {
			case held: // held out before any other guardrail, as the rules do
			case o.returned:
				a.Status, a.Reason = models.ActionCancelled, "order_returned"
			case r.IntN(8) == 0:
				a.Status, a.Reason = models.ActionSuppressed, "frequency_cap: 2 per 7d"
			}
			out = append(out, a)
		}
	case models.ReturnRequested:
		out = append(out, act(models.ActionPromoCode, "return-recovery", at.Add(time.Hour), true, map[string]any{"amount": "4.90", "free_shipping": true, "valid_for": "60d"}))
	case models.ReturnReceived:
		out = append(out, act(models.ActionPointsRevoke, "points-revoke-return", at, false, map[string]any{"reason": "return", "points": -(o.cents / 100)}))
	case models.ComplaintOpened:
		out = append(out, act(models.ActionNotify, "complaint-to-support", at, false, map[string]any{"reason": "damaged parcel"}))
	}
	return out
}
