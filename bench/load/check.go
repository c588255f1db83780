package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite"
	gomysql "github.com/go-sql-driver/mysql"
)

// checkReport is what the database says about the run.
type checkReport struct {
	InboxRows        int64   `json:"inbox_rows"`
	AckedDistinct    int64   `json:"acked_distinct"`
	MissingAcked     int64   `json:"missing_acked"`        // acknowledged, not in the inbox: LOST
	UnknownRows      int64   `json:"unknown_rows"`         // in the inbox, never sent
	StoredUnacked    int64   `json:"stored_not_acked"`     // sent, stored, the 2xx never arrived (allowed)
	DuplicateRows    int64   `json:"duplicate_rows"`       // one delivery id twice
	Pending          int64   `json:"pending"`              // after the drain wait
	Failed           int64   `json:"failed"`               // processing gave up
	DrainSeconds     float64 `json:"drain_seconds"`        // from the end of the load until nothing was pending; -1: not drained
	ProcessRate      float64 `json:"processed_per_second"` // processed rows / (last processed_at - first received_at)
	LagP50           float64 `json:"lag_p50_s"`            // processed_at - received_at
	LagP99           float64 `json:"lag_p99_s"`            //
	LagMax           float64 `json:"lag_max_s"`            //
	Customers        int     `json:"customers"`            // with at least one acknowledged step
	StepsAcked       int64   `json:"steps_acked"`          // distinct journey steps acknowledged
	Events           int64   `json:"events"`               // journey events of this run
	MissingSteps     int64   `json:"missing_steps"`        // acknowledged step without an event: LOST
	WrongCustomer    int64   `json:"wrong_customer"`       // event under another customer
	UnknownSteps     int64   `json:"unknown_steps"`        // event for a step never sent
	CountMismatch    int64   `json:"count_mismatch"`       // customers whose event count != distinct acknowledged steps (unexplained)
	Actions          int64   `json:"actions"`              // actions of this run's orders
	DupActions       int64   `json:"duplicate_actions"`    // >1 per (customer, once-per-order rule, order)
	PaidOrders       int64   `json:"paid_orders"`          // acknowledged "paid" steps
	MissingPointsAwd int64   `json:"paid_without_points_award"`
	MetricsLagP99    float64 `json:"metrics_lag_p99_s,omitempty"` // from treue_inbox_lag_seconds (bucket bound)
	MetricsRSSKB     int64   `json:"metrics_rss_kb,omitempty"`    // process_resident_memory_bytes at the end
	Failures         []string
}

// oncePerOrder are the rules of examples/rules.yaml limited to one action per order.
var oncePerOrder = map[string]bool{"points-award": true, "late-delivery-apology": true, "return-recovery": true, "review-request": true}

func openDB(dsn string) (*sql.DB, string, error) {
	driver := "mysql"
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		driver, dsn = "sqlite", strings.TrimPrefix(dsn, "sqlite:")
	case strings.HasSuffix(dsn, ".db"):
		driver = "sqlite"
	}
	if driver == "mysql" {
		c, err := gomysql.ParseDSN(dsn)
		if err != nil {
			return nil, "", fmt.Errorf("--dsn: %w", err)
		}
		c.ParseTime = true
		c.Loc = time.UTC
		dsn = c.FormatDSN()
	} else {
		dsn += "?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, "", err
	}
	db.SetMaxOpenConns(2)
	return db, driver, nil
}

// scanTime reads a DATETIME column from either driver.
func scanTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case []byte:
		return parseTimeString(string(t))
	case string:
		return parseTimeString(t)
	}
	return time.Time{}, false
}

func parseTimeString(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999 -0700 MST"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// check compares what was acknowledged with what the database holds.
func check(ctx context.Context, o *options, run string, shops []*shop, customers []*customer, loadEnd time.Time) (*checkReport, error) {
	db, _, err := openDB(o.dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	r := &checkReport{}
	fail := func(format string, args ...any) {
		r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
	}

	shopIDs := map[string]int64{}
	rows, err := db.QueryContext(ctx, "SELECT id, shop_key FROM shops")
	if err != nil {
		return nil, fmt.Errorf("shops: %w", err)
	}
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, err
		}
		shopIDs[key] = id
	}
	rows.Close()
	for _, s := range shops {
		if _, ok := shopIDs[s.Key]; !ok {
			return nil, fmt.Errorf("shop %s is not in the database: was the server started with the config from --print-config (same --shops, --mix, --seed)?", s.Key)
		}
	}

	// 1. Drain: wait until the processor has handled everything.
	deadline := time.Now().Add(o.drain)
	for {
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM inbox WHERE status = 'pending'").Scan(&r.Pending); err != nil {
			return nil, fmt.Errorf("pending: %w", err)
		}
		if r.Pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.DrainSeconds = time.Since(loadEnd).Seconds()
	journeys := true
	switch {
	case r.Pending > 0 && o.drain == 0:
		// Asked not to wait: an intake-only measurement.
		r.DrainSeconds = -1
		journeys = false
	case r.Pending > 0:
		// Pending steps would all look lost: report the backlog, not them.
		r.DrainSeconds = -1
		journeys = false
		fail("inbox not drained: %d deliveries still pending after %s (journeys and actions not checked)", r.Pending, o.drain)
	}

	// 2. Inbox: every acknowledged delivery exactly once, nothing unknown.
	type dkey struct{ shop, id string }
	acked, sent := map[dkey]bool{}, map[dkey]bool{}
	for _, c := range customers {
		for _, s := range c.steps {
			k := dkey{c.shop.Key, s.deliveryID}
			if s.attempted {
				sent[k] = true
			}
			if s.acked {
				acked[k] = true
			}
		}
	}
	r.AckedDistinct = int64(len(acked))
	seen := map[dkey]bool{}
	var lags []float64
	var firstRecv, lastProc time.Time
	var processed int64
	for _, s := range shops {
		rows, err := db.QueryContext(ctx, "SELECT delivery_id, status, received_at, processed_at FROM inbox WHERE shop_id = ? AND delivery_id LIKE ?", shopIDs[s.Key], run+"-%")
		if err != nil {
			return nil, fmt.Errorf("inbox: %w", err)
		}
		for rows.Next() {
			var id, status string
			var recv, proc any
			if err := rows.Scan(&id, &status, &recv, &proc); err != nil {
				rows.Close()
				return nil, err
			}
			k := dkey{s.Key, id}
			r.InboxRows++
			if seen[k] {
				r.DuplicateRows++
			}
			seen[k] = true
			switch {
			case !sent[k]:
				r.UnknownRows++
			case !acked[k]:
				r.StoredUnacked++
			}
			if status == "failed" {
				r.Failed++
			}
			if a, ok := scanTime(recv); ok {
				if firstRecv.IsZero() || a.Before(firstRecv) {
					firstRecv = a
				}
				if b, ok := scanTime(proc); ok && proc != nil {
					lags = append(lags, b.Sub(a).Seconds())
					processed++
					if b.After(lastProc) {
						lastProc = b
					}
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for k := range acked {
		if !seen[k] {
			r.MissingAcked++
			if r.MissingAcked <= 5 {
				fail("LOST: %s %s was acknowledged but is not in the inbox", k.shop, k.id)
			}
		}
	}
	if r.MissingAcked > 0 {
		fail("%d acknowledged deliveries are missing from the inbox", r.MissingAcked)
	}
	if r.DuplicateRows > 0 {
		fail("%d deliveries are in the inbox more than once", r.DuplicateRows)
	}
	if r.UnknownRows > 0 {
		fail("%d inbox rows carry delivery ids this run never sent", r.UnknownRows)
	}
	if r.Failed > 0 {
		fail("%d deliveries failed processing for good (inbox status failed)", r.Failed)
	}
	if r.InboxRows != r.AckedDistinct+r.StoredUnacked-r.MissingAcked {
		fail("inbox rows %d != acknowledged %d + stored-but-unacknowledged %d", r.InboxRows, r.AckedDistinct, r.StoredUnacked)
	}
	if processed > 0 && lastProc.After(firstRecv) {
		r.ProcessRate = float64(processed) / lastProc.Sub(firstRecv).Seconds()
	}
	slices.Sort(lags)
	if n := len(lags); n > 0 {
		r.LagP50 = lags[n/2]
		r.LagP99 = lags[min(n-1, int(float64(n)*0.99))]
		r.LagMax = lags[n-1]
	}

	if !journeys {
		if m, err := scrape(ctx, o.url+"/metrics"); err == nil {
			r.MetricsRSSKB = int64(m.value("process_resident_memory_bytes") / 1024)
		}
		return r, nil
	}

	// 3. Journeys: per customer, the acknowledged steps are its events, once.
	events := map[string]int64{} // shop|step_key -> customer id
	perCustomer := map[int64]int64{}
	idents := map[string]int64{} // shop|external id -> customer id
	for _, s := range shops {
		sid := shopIDs[s.Key]
		rows, err := db.QueryContext(ctx, "SELECT step_key, customer_id FROM events WHERE shop_id = ?", sid)
		if err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		for rows.Next() {
			var key string
			var cid int64
			if err := rows.Scan(&key, &cid); err != nil {
				rows.Close()
				return nil, err
			}
			if !strings.Contains(key, run+"-") {
				continue
			}
			r.Events++
			events[s.Key+"|"+key] = cid
			perCustomer[cid]++
		}
		rows.Close()
		kind := "id"
		if s.Platform == "shopware" {
			kind = "number"
		}
		rows, err = db.QueryContext(ctx, "SELECT customer_id, value FROM customer_identities WHERE shop_id = ? AND kind = ? AND value LIKE ?", sid, kind, run+"-%")
		if err != nil {
			return nil, fmt.Errorf("identities: %w", err)
		}
		for rows.Next() {
			var cid int64
			var v string
			if err := rows.Scan(&cid, &v); err != nil {
				rows.Close()
				return nil, err
			}
			idents[s.Key+"|"+v] = cid
		}
		rows.Close()
	}
	knownSteps := map[string]bool{}
	paid := map[string]bool{} // shop|order with an acknowledged paid step
	for _, c := range customers {
		ackedSteps, sentSteps := map[string]bool{}, map[string]bool{}
		for _, s := range c.steps {
			if s.attempted {
				sentSteps[s.stepKey] = true
				knownSteps[c.shop.Key+"|"+s.stepKey] = true
			}
			if s.acked {
				ackedSteps[s.stepKey] = true
				if strings.HasPrefix(s.stepKey, "order.paid|") {
					paid[c.shop.Key+"|"+s.orderID] = true
				}
			}
		}
		if len(ackedSteps) == 0 {
			continue
		}
		r.Customers++
		r.StepsAcked += int64(len(ackedSteps))
		cid, ok := idents[c.shop.Key+"|"+c.id]
		if !ok {
			r.MissingSteps += int64(len(ackedSteps))
			fail("customer %s/%s has %d acknowledged steps but no customer record", c.shop.Key, c.id, len(ackedSteps))
			continue
		}
		storedSent := 0
		for k := range sentSteps {
			got, ok := events[c.shop.Key+"|"+k]
			switch {
			case !ok && ackedSteps[k]:
				r.MissingSteps++
				if r.MissingSteps <= 5 {
					fail("LOST step: %s %s (customer %s) was acknowledged but has no journey event", c.shop.Key, k, c.id)
				}
			case ok && got != cid:
				r.WrongCustomer++
				if r.WrongCustomer <= 5 {
					fail("step %s %s recorded under customer %d, want %d (%s)", c.shop.Key, k, got, cid, c.id)
				}
			case ok:
				storedSent++
			}
		}
		if n := perCustomer[cid]; n != int64(storedSent) {
			r.CountMismatch++
			if r.CountMismatch <= 5 {
				fail("customer %s/%s has %d journey events, %d distinct steps acknowledged", c.shop.Key, c.id, n, len(ackedSteps))
			}
		}
	}
	for k := range events {
		if !knownSteps[k] {
			r.UnknownSteps++
		}
	}
	if r.MissingSteps > 0 {
		fail("%d acknowledged journey steps have no event", r.MissingSteps)
	}
	if r.UnknownSteps > 0 {
		fail("%d journey events for steps this run never sent", r.UnknownSteps)
	}
	if r.WrongCustomer > 0 || r.CountMismatch > 0 {
		fail("%d events under the wrong customer, %d customers with an unexpected event count", r.WrongCustomer, r.CountMismatch)
	}

	// 4. Actions: once-per-order rules planned at most once per order, and
	// every acknowledged payment has its points.
	r.PaidOrders = int64(len(paid))
	type akey struct {
		customer      int64
		rule, orderID string
	}
	perOrder := map[akey]int{}
	points := map[string]int{}
	for _, s := range shops {
		rows, err := db.QueryContext(ctx, "SELECT customer_id, rule_id, order_ref FROM actions WHERE shop_id = ? AND order_ref LIKE ?", shopIDs[s.Key], run+"-%")
		if err != nil {
			return nil, fmt.Errorf("actions: %w", err)
		}
		for rows.Next() {
			var k akey
			if err := rows.Scan(&k.customer, &k.rule, &k.orderID); err != nil {
				rows.Close()
				return nil, err
			}
			r.Actions++
			if oncePerOrder[k.rule] {
				perOrder[k]++
			}
			if k.rule == "points-award" {
				points[s.Key+"|"+k.orderID]++
			}
		}
		rows.Close()
	}
	for k, n := range perOrder {
		if n > 1 {
			r.DupActions++
			if r.DupActions <= 5 {
				fail("DOUBLED: rule %s planned %d actions for order %s", k.rule, n, k.orderID)
			}
		}
	}
	for k := range paid {
		if points[k] != 1 {
			r.MissingPointsAwd++
			if r.MissingPointsAwd <= 5 {
				fail("order %s: payment acknowledged, %d points-award actions (want 1)", k, points[k])
			}
		}
	}
	if r.DupActions > 0 {
		fail("%d (customer, rule, order) with more than one once-per-order action", r.DupActions)
	}
	if r.MissingPointsAwd > 0 {
		fail("%d paid orders without exactly one points-award action", r.MissingPointsAwd)
	}

	// 5. The server's own view: the lag histogram and its memory.
	if m, err := scrape(ctx, o.url+"/metrics"); err == nil {
		r.MetricsLagP99 = m.histQuantile("treue_inbox_lag_seconds", 0.99)
		r.MetricsRSSKB = int64(m.value("process_resident_memory_bytes") / 1024)
	}
	return r, nil
}

// metricsText is a scraped Prometheus text page.
type metricsText map[string]float64

func scrape(ctx context.Context, url string) (metricsText, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return parseMetrics(resp.Body)
}

func parseMetrics(r io.Reader) (metricsText, error) {
	m := metricsText{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] += v
	}
	return m, sc.Err()
}

func (m metricsText) value(name string) float64 { return m[name] }

// histQuantile returns the upper bound of the bucket holding quantile q.
func (m metricsText) histQuantile(name string, q float64) float64 {
	type bucket struct{ le, n float64 }
	var bs []bucket
	prefix := name + `_bucket{le="`
	for k, v := range m {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		le := strings.TrimSuffix(strings.TrimPrefix(k, prefix), `"}`)
		f, err := strconv.ParseFloat(le, 64)
		if err != nil {
			f = math.Inf(1)
		}
		bs = append(bs, bucket{f, v})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return 0
	}
	total := bs[len(bs)-1].n
	for _, b := range bs {
		if b.n >= q*total {
			return b.le
		}
	}
	return math.Inf(1)
}

// checkAcksFile checks a file of acknowledgements (from --acks) against the
// inbox alone: every acknowledged delivery is there exactly once.
func checkAcksFile(ctx context.Context, dsn, file string) (int, []string, error) {
	db, _, err := openDB(dsn)
	if err != nil {
		return 0, nil, err
	}
	defer db.Close()
	f, err := os.Open(file)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	var failures []string
	n := 0
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) < 2 || seen[parts[0]+"\t"+parts[1]] {
			continue
		}
		seen[parts[0]+"\t"+parts[1]] = true
		n++
		var count int
		err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM inbox i JOIN shops s ON s.id = i.shop_id WHERE s.shop_key = ? AND i.delivery_id = ?", parts[0], parts[1]).Scan(&count)
		if err != nil {
			return n, failures, err
		}
		if count != 1 {
			failures = append(failures, fmt.Sprintf("%s %s: acknowledged, %d rows in the inbox", parts[0], parts[1], count))
		}
	}
	return n, failures, sc.Err()
}
