// Command timeline measures the first page of the customer timeline API under
// concurrent load:
//
//	go run ./bench/timeline --url http://127.0.0.1:8080 --token "$TOKEN" --shop acme \
//	    --dsn 'root:@tcp(127.0.0.1:3306)/treue_seed?parseTime=true' --concurrency 16 --duration 30s
//
// It samples customers of the shop, from the database (--dsn) or through the
// search API (--query with a %d pattern, e.g. the e-mails bench/seed prints),
// then requests GET /api/v1/shops/{shop}/customers/{id}/timeline?limit=N for
// random ones until --duration is over, and prints the request count, the
// errors and the latency percentiles. It stops by itself; point it only at a
// server you run.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite"
	_ "github.com/go-sql-driver/mysql"
)

type config struct {
	url, token, shop, driver, dsn, query, types string
	concurrency, sample, limit, queryMax        int
	duration, timeout                           time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "http://127.0.0.1:8080", "Treue's base URL")
	flag.StringVar(&c.token, "token", os.Getenv("TREUE_TOKEN"), "API token with the support role (default $TREUE_TOKEN)")
	flag.StringVar(&c.shop, "shop", "acme", "shop key")
	flag.IntVar(&c.concurrency, "concurrency", 16, "requests in flight")
	flag.DurationVar(&c.duration, "duration", 30*time.Second, "how long to send requests")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Second, "timeout of one request")
	flag.IntVar(&c.limit, "limit", 50, "timeline page size")
	flag.StringVar(&c.types, "types", "", "optional types filter, e.g. events or order.placed,action")
	flag.StringVar(&c.driver, "driver", "mysql", "driver of --dsn: mysql or sqlite")
	flag.StringVar(&c.dsn, "dsn", "", "database to sample customer ids from")
	flag.StringVar(&c.query, "query", "", "without --dsn: search pattern with %d, e.g. c%07d.RUN@seed.example")
	flag.IntVar(&c.queryMax, "query-max", 100000, "the %d in --query is drawn from [0, query-max)")
	flag.IntVar(&c.sample, "sample", 2000, "customers to sample")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "timeline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	if c.token == "" {
		return errors.New("--token (or $TREUE_TOKEN) is required: create one with `treue tokens create --name bench --role support`")
	}
	if c.concurrency < 1 || c.sample < 1 || c.duration <= 0 {
		return errors.New("--concurrency, --sample and --duration must be positive")
	}
	base, err := url.Parse(strings.TrimRight(c.url, "/"))
	if err != nil || base.Host == "" {
		return fmt.Errorf("--url %q is not a URL", c.url)
	}
	client := &http.Client{Timeout: c.timeout, Transport: &http.Transport{
		MaxIdleConns: c.concurrency * 2, MaxIdleConnsPerHost: c.concurrency * 2, IdleConnTimeout: time.Minute,
	}}
	var ids []string
	switch {
	case c.dsn != "":
		ids, err = sampleDB(ctx, c)
	case c.query != "":
		ids, err = sampleSearch(ctx, client, base, c)
	default:
		return errors.New("give --dsn to sample customers from the database, or --query to find them through the search API")
	}
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("no customers of shop %s found to request", c.shop)
	}
	fmt.Printf("%d customers sampled; %d concurrent requests for %s against %s\n", len(ids), c.concurrency, c.duration, base)

	type result struct {
		lat    []time.Duration
		errs   map[string]int
		items  int
		paging int
	}
	results := make([]result, c.concurrency)
	// No new request after the deadline; those in flight finish (an interrupt cancels them).
	start := time.Now()
	deadline := start.Add(c.duration)
	var wg sync.WaitGroup
	for w := range c.concurrency {
		wg.Go(func() {
			r := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			res := result{errs: map[string]int{}}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				id := ids[r.IntN(len(ids))]
				u := fmt.Sprintf("%s/api/v1/shops/%s/customers/%s/timeline?limit=%d", base, url.PathEscape(c.shop), url.PathEscape(id), c.limit)
				if c.types != "" {
					u += "&types=" + url.QueryEscape(c.types)
				}
				t0 := time.Now()
				n, more, err := timeline(ctx, client, u, c.token)
				d := time.Since(t0)
				if ctx.Err() != nil && err != nil {
					break // interrupted during this request
				}
				res.lat = append(res.lat, d)
				if err != nil {
					res.errs[err.Error()]++
					continue
				}
				res.items += n
				if more {
					res.paging++
				}
			}
			results[w] = res
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	errs := map[string]int{}
	items, paging := 0, 0
	for _, r := range results {
		all = append(all, r.lat...)
		for k, v := range r.errs {
			errs[k] += v
		}
		items += r.items
		paging += r.paging
	}
	nerr := 0
	for _, v := range errs {
		nerr += v
	}
	slices.Sort(all)
	ok := len(all) - nerr
	fmt.Printf("requests %d in %s (%.0f/s), errors %d\n", len(all), elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds(), nerr)
	if ok > 0 {
		fmt.Printf("items per page %.1f; pages with a next_cursor %.0f%%\n", float64(items)/float64(ok), 100*float64(paging)/float64(ok))
	}
	if len(all) > 0 {
		fmt.Printf("latency p50 %s  p95 %s  p99 %s  max %s\n", pct(all, 50), pct(all, 95), pct(all, 99), all[len(all)-1].Round(10*time.Microsecond))
	}
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("  %6d × %s\n", errs[k], k)
	}
	if nerr > 0 {
		return fmt.Errorf("%d of %d requests failed", nerr, len(all))
	}
	return nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	i = min(max(i-1, 0), len(sorted)-1)
	return sorted[i].Round(10 * time.Microsecond)
}

// timeline requests one page and returns the number of items and whether a
// next page exists.
func timeline(ctx context.Context, client *http.Client, u, token string) (int, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, errors.New(shortErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var p struct {
			Detail string `json:"detail"`
		}
		json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&p)
		return 0, false, fmt.Errorf("HTTP %d %s", resp.StatusCode, p.Detail)
	}
	var page struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor string            `json:"next_cursor"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return 0, false, fmt.Errorf("decode: %w", err)
	}
	return len(page.Items), page.NextCursor != "", nil
}

// shortErr keeps the cause of a transport error, not the URL with the id.
func shortErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

func sampleDB(ctx context.Context, c config) ([]string, error) {
	db, err := sql.Open(c.driver, c.dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	random := "RAND()"
	if c.driver == "sqlite" {
		random = "RANDOM()"
	}
	rows, err := db.QueryContext(ctx, "SELECT c.public_id FROM customers c JOIN shops s ON s.id = c.shop_id WHERE s.shop_key = ? ORDER BY "+random+" LIMIT ?", c.shop, c.sample)
	if err != nil {
		return nil, fmt.Errorf("sample customers: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// sampleSearch finds customers through the search API, trying at most four
// queries per wanted customer.
func sampleSearch(ctx context.Context, client *http.Client, base *url.URL, c config) ([]string, error) {
	if !strings.Contains(c.query, "%") {
		return nil, errors.New("--query needs a %d (or %07d) for the customer number")
	}
	seen := map[string]bool{}
	var ids []string
	for try := 0; try < 4*c.sample && len(ids) < c.sample && ctx.Err() == nil; try++ {
		q := fmt.Sprintf(c.query, mrand.IntN(max(c.queryMax, 1)))
		u := fmt.Sprintf("%s/api/v1/shops/%s/customers?q=%s", base, url.PathEscape(c.shop), url.QueryEscape(q))
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := client.Do(req)
		if err != nil {
			return nil, errors.New(shortErr(err))
		}
		var res struct {
			Customers []struct {
				ID string `json:"id"`
			} `json:"customers"`
			Detail string `json:"detail"`
		}
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("search: HTTP %d %s", resp.StatusCode, res.Detail)
		}
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		for _, h := range res.Customers {
			if !seen[h.ID] {
				seen[h.ID] = true
				ids = append(ids, h.ID)
			}
		}
	}
	return ids, nil
}
