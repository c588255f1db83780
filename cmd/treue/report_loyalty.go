package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/reports"
)

const reportLoyaltyUsage = "usage: treue report loyalty --shop KEY [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|json|csv]\n" +
	"  dates are days in the shop's time zone, --to exclusive; default: the twelve calendar months up to today"

// reportLoyalty runs `treue report loyalty`: the shop's loyalty figures, as
// GET /api/v1/shops/{shop}/reports/loyalty answers them, without its time
// limit.
func (m *Main) reportLoyalty(ctx context.Context, configPath string, args []string) error {
	fs := flag.NewFlagSet("report loyalty", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	shopKey := fs.String("shop", "", "shop key")
	from := fs.String("from", "", "first day, YYYY-MM-DD")
	to := fs.String("to", "", "day after the last, YYYY-MM-DD")
	format := fs.String("format", "table", "table, json or csv")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(m.Stdout, reportLoyaltyUsage)
		return nil
	}
	if err != nil {
		return usageError{"report loyalty: " + err.Error() + "\n" + reportLoyaltyUsage}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("report loyalty takes no arguments, got %q\n%s", fs.Arg(0), reportLoyaltyUsage)}
	}
	if *shopKey == "" {
		return usageError{"report loyalty: --shop is required\n" + reportLoyaltyUsage}
	}
	write, ok := map[string]func(io.Writer, *reports.Loyalty) error{
		"table": writeLoyaltyTable, "json": writeLoyaltyJSON, "csv": writeLoyaltyCSV,
	}[*format]
	if !ok {
		return usageError{fmt.Sprintf("report loyalty: --format %q: want table, json or csv\n%s", *format, reportLoyaltyUsage)}
	}

	e, err := m.openReady(ctx, configPath, true)
	if err != nil {
		return err
	}
	defer e.store.Close()
	shop, err := e.store.ShopByKey(ctx, *shopKey)
	if err != nil {
		return fmt.Errorf("report loyalty: shop %s: %w", *shopKey, err)
	}
	now := time.Now()
	period, err := reports.ParseLoyaltyPeriod(shop, *from, *to, now)
	if err != nil {
		return periodError("report loyalty", reportLoyaltyUsage, err)
	}
	progress := newProgressBar(m.Stderr, "report loyalty", "customers", "read")
	rep := &reports.LoyaltyReport{Source: e.store, Options: journey.DefaultOptions, Progress: progress.update}
	figures, err := rep.Run(ctx, shop, period, now)
	progress.done()
	if err != nil {
		return err
	}
	e.log.Debug("loyalty report", "shop", shop.Key, "customers", progress.total, "duration_ms", time.Since(progress.start).Milliseconds())
	return write(m.Stdout, figures)
}

func writeLoyaltyJSON(w io.Writer, l *reports.Loyalty) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// loyaltyPercent writes a rate as a percentage, or why there is none.
func loyaltyPercent(r *float64) string {
	if r == nil {
		return "not enough data"
	}
	// Half away from zero, as the console rounds (31.25 % is 31.3 %).
	return strconv.FormatFloat(math.Round(*r*1000)/10, 'f', 1, 64) + " %"
}

func writeLoyaltyTable(w io.Writer, l *reports.Loyalty) error {
	fmt.Fprintf(w, "Loyalty figures of shop %s, %s to %s (not included), days in %s\n", l.Shop, l.From, l.To, l.Timezone)
	fmt.Fprintf(w, "A counted order is neither cancelled nor a test. Rates need %d customers, the median %d gaps.\n\n", l.MinSample, l.MinSample)
	fmt.Fprintf(w, "Customers with a counted order before %s: %d\n\n", l.To, l.Customers)

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	r := l.Repurchase
	fmt.Fprintln(tw, "FIGURE\tVALUE\tFROM")
	fmt.Fprintf(tw, "Repurchase rate\t%s\t%d of %d customers whose first counted order is in the period\n", loyaltyPercent(r.Rate), r.RepeatCustomers, r.Customers)
	fmt.Fprintf(tw, "  within 90 days\t%s\t%d of %d\n", loyaltyPercent(r.Within90Days.Rate), r.Within90Days.RepeatCustomers, r.Customers)
	g := l.DaysBetweenOrders
	median := "not enough data"
	if g.Median != nil {
		median = strconv.FormatFloat(*g.Median, 'f', 1, 64) + " days"
	}
	fmt.Fprintf(tw, "Median days between orders\t%s\t%d gaps between consecutive orders in the period\n", median, g.Gaps)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range []string{r.Note, g.Note} {
		if n != "" {
			fmt.Fprintf(w, "  (%s)\n", n)
		}
	}

	fmt.Fprintf(w, "\nCustomers per stage at each month's end\n")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MONTH\tNEW\tFIRST PURCHASE\tSECOND POSITIVE\tLOYAL\tAT RISK\tLAPSED\tTOTAL\t")
	for _, s := range l.Stages {
		c := s.Counts
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", s.Month, c.New, c.FirstPurchase, c.SecondPositive, c.Loyal, c.AtRisk, c.Lapsed, c.Total())
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nCohorts by the month of the first counted order: customers (share) with a counted order N months later\n")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "COHORT\tSIZE\tNOTE"
	if len(l.Cohorts) > 0 {
		for k := range l.Cohorts[0].Retained {
			head += "\tM" + strconv.Itoa(k)
		}
	}
	fmt.Fprintln(tw, head)
	for _, c := range l.Cohorts {
		row := fmt.Sprintf("%s\t%d\t%s", c.Cohort, c.Size, c.Note)
		for k, n := range c.Retained {
			row += "\t" + strconv.Itoa(n)
			if c.Rates[k] != nil {
				row += " (" + loyaltyPercent(c.Rates[k]) + ")"
			}
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}

// writeLoyaltyCSV writes one row per figure, in long form (a spreadsheet
// pivots it): figure, month, offset, stage, count, of, value, note. A rate
// is the value of its count over of, empty where it is null.
func writeLoyaltyCSV(w io.Writer, l *reports.Loyalty) error {
	cw := csv.NewWriter(w)
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	itoa := strconv.Itoa
	r, g := l.Repurchase, l.DaysBetweenOrders
	rows := [][]string{
		{"figure", "month", "offset", "stage", "count", "of", "value", "note"},
		{"customers", "", "", "", itoa(l.Customers), "", "", ""},
		{"repurchase", "", "", "", itoa(r.RepeatCustomers), itoa(r.Customers), num(r.Rate), r.Note},
		{"repurchase_90_days", "", "", "", itoa(r.Within90Days.RepeatCustomers), itoa(r.Customers), num(r.Within90Days.Rate), r.Note},
		{"days_between_orders", "", "", "", itoa(g.Gaps), "", num(g.Median), g.Note},
	}
	for _, s := range l.Stages {
		c := s.Counts
		for _, st := range []struct {
			stage models.Stage
			n     int
		}{
			{models.StageNew, c.New}, {models.StageFirstPurchase, c.FirstPurchase}, {models.StageSecondPositive, c.SecondPositive},
			{models.StageLoyal, c.Loyal}, {models.StageAtRisk, c.AtRisk}, {models.StageLapsed, c.Lapsed},
		} {
			rows = append(rows, []string{"stage", s.Month, "", string(st.stage), itoa(st.n), itoa(c.Total()), "", ""})
		}
	}
	for _, c := range l.Cohorts {
		for k, n := range c.Retained {
			rows = append(rows, []string{"cohort", c.Cohort, itoa(k), "", itoa(n), itoa(c.Size), num(c.Rates[k]), c.Note})
		}
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("report loyalty: csv: %w", err)
	}
	return nil
}
