package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/treue/treue/config"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/reports"
	"github.com/treue/treue/rules"
)

// rulesReporter computes rules reports from the store with the configured
// windows and minimum sample, and the costs the rules in force name.
type rulesReporter struct {
	st  *store.Store
	opt func() reports.Options
}

// withCosts sets what samples and points cost, from the rules' catalog
// (a product's cost, or its sample's) and points.value.
func withCosts(o reports.Options, set *rules.Set) reports.Options {
	if set == nil {
		return o
	}
	o.PointValue = set.Points.Value
	o.SampleCost = set.SampleCost
	return o
}

// reportWindows turns reports.attribution_days into windows.
func reportWindows(cfg config.Reports) map[models.ActionType]time.Duration {
	windows := map[models.ActionType]time.Duration{}
	for typ, d := range cfg.AttributionDays {
		windows[models.ActionType(typ)] = time.Duration(d * float64(24*time.Hour))
	}
	return windows
}

func newRulesReporter(st *store.Store, cfg config.Reports, now func() time.Time, set func() *rules.Set) rulesReporter {
	windows := reportWindows(cfg)
	return rulesReporter{st: st, opt: func() reports.Options {
		return withCosts(reports.Options{Windows: windows, MinSample: cfg.MinSample, Now: now()}, set())
	}}
}

func (r rulesReporter) RulesReport(ctx context.Context, shop *models.Shop, from, to time.Time) (*reports.RulesReport, error) {
	return reports.Rules(ctx, r.st, shop, from, to, r.opt())
}

const reportUsage = `usage: treue report [rules] --shop KEY [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|json|csv]
       treue report loyalty --shop KEY [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|json|csv]
       treue report budget --shop KEY [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|json]`

// report runs `treue report rules|loyalty`.
func (m *Main) report(ctx context.Context, configPath string, args []string) error {
	if len(args) == 0 {
		return usageError{reportUsage}
	}
	if strings.HasPrefix(args[0], "-") {
		// `treue report --shop KEY`: the rules report, the one a merchant
		// asks for first.
		return m.reportRules(ctx, configPath, args)
	}
	switch args[0] {
	case "rules":
		return m.reportRules(ctx, configPath, args[1:])
	case "loyalty":
		return m.reportLoyalty(ctx, configPath, args[1:])
	case "budget":
		return m.reportBudget(ctx, configPath, args[1:])
	}
	return usageError{fmt.Sprintf("report: unknown report %q\n%s", args[0], reportUsage)}
}

// reportFlags are the flags every report takes.
type reportFlags struct{ shop, from, to, format string }

func (f *reportFlags) flagSet(name string) *flag.FlagSet {
	fs := newFlagSet(name)
	fs.StringVar(&f.shop, "shop", "", "shop `KEY`")
	fs.StringVar(&f.from, "from", "", "first day, `YYYY-MM-DD` in the shop's time zone (default: a period up to today)")
	fs.StringVar(&f.to, "to", "", "the day after the last, `YYYY-MM-DD` (default: tomorrow)")
	fs.StringVar(&f.format, "format", "table", "table, json or csv")
	return fs
}

// parse reads a report's flags; the errors are usage errors.
func (f *reportFlags) parse(name string, args []string) error {
	fs := f.flagSet(name)
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Sprintf("%s: %v\n%s", name, err, reportUsage)}
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("%s: unexpected argument %q\n%s", name, fs.Arg(0), reportUsage)}
	case f.shop == "":
		return usageError{fmt.Sprintf("%s: --shop is required\n%s", name, reportUsage)}
	case f.format != "table" && f.format != "json" && f.format != "csv":
		return usageError{fmt.Sprintf("%s: --format %q: want table, json or csv", name, f.format)}
	}
	return nil
}

func (m *Main) reportRules(ctx context.Context, configPath string, args []string) error {
	var f reportFlags
	if err := f.parse("report rules", args); err != nil {
		return err
	}
	shopKey, fromS, toS, format := &f.shop, &f.from, &f.to, &f.format
	e, err := m.openReady(ctx, configPath, false)
	if err != nil {
		return err
	}
	defer e.store.Close()
	shop, err := e.store.ShopByKey(ctx, *shopKey)
	if err != nil {
		return fmt.Errorf("--shop %s: %w", *shopKey, err)
	}
	p, err := reports.ParseRulesPeriod(shop, *fromS, *toS, time.Now())
	if err != nil {
		return periodError("report rules", reportUsage, err)
	}
	// The costs come from the rules file in force; without one, they are unknown.
	set, err := rulesInForce(e.cfg.Rules.File)
	if err != nil {
		return err
	}
	rep, err := newRulesReporter(e.store, e.cfg.Reports, time.Now, func() *rules.Set { return set }).RulesReport(ctx, shop, p.From, p.To)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		return writeJSON(m.Stdout, rep)
	case "csv":
		return rulesCSV(m.Stdout, rep)
	}
	return rulesTable(m.Stdout, rep)
}

// rulesInForce loads the rules file a report prices actions with; nil
// without one (the costs are then unknown).
func rulesInForce(path string) (*rules.Set, error) {
	set, err := rules.Load(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rules.file: %w", err)
	}
	return set, nil
}

// writeJSON prints v indented, as the reports and the export do.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// periodError turns a report period's *models.ValidationError into a usage
// error naming the flags; other errors pass.
func periodError(name, usage string, err error) error {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var msgs []string
	for _, f := range ve.Fields {
		msgs = append(msgs, "--"+f.Field+" "+f.Message)
	}
	return usageError{name + ": " + strings.Join(msgs, "; ") + "\n" + usage}
}

func pct(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p*100, 'f', 1, 64) + "%"
}

func rulesTable(w io.Writer, rep *reports.RulesReport) error {
	fmt.Fprintf(w, "shop %s, actions due %s to %s (exclusive); rates need %d customers a group; intervals %.0f %%\n\n",
		rep.Shop, rep.From, rep.To, rep.MinSample, rep.Confidence*100)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tTREATMENT\tHOLDOUT\tUPLIFT (points, 95% CI)\tINCR. REVENUE\tCOST\tMATURING")
	for _, r := range rep.Rules {
		hold := "no holdout"
		if r.Holdout != nil {
			hold = fmt.Sprintf("%d/%d %s", r.Holdout.Converted, r.Holdout.Customers, pct(r.Holdout.Rate))
		}
		uplift := "not enough data"
		switch {
		case r.Holdout == nil:
			uplift = "-"
		case r.Uplift != nil:
			uplift = fmt.Sprintf("%+.1f [%.1f, %.1f]", r.Uplift.Absolute*100, r.Uplift.CILow*100, r.Uplift.CIHigh*100)
			if r.Uplift.Significant {
				uplift += " *"
			}
		}
		inc := "-"
		if r.IncrementalRevenue != nil {
			inc = *r.IncrementalRevenue + " " + rep.Currency
		}
		fmt.Fprintf(tw, "%s\t%d/%d %s\t%s\t%s\t%s\t%s\t%d\n", r.RuleID, r.Treatment.Converted, r.Treatment.Customers, pct(r.Treatment.Rate),
			hold, uplift, inc, costText(r.Cost), r.Maturing)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	for _, r := range rep.Rules {
		if r.Note != "" {
			notes = append(notes, r.RuleID+": "+r.Note)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\n"+strings.Join(notes, "\n"))
	}
	fmt.Fprintln(w, "\nconverted/customers; * the interval excludes 0; maturing: customers whose attribution window is still open")
	return nil
}

// costText sums up a rule's cost: the known total and what could not be valued.
func costText(c reports.Cost) string {
	s := c.Total
	var unknown []string
	if c.SamplesSent > 0 && c.SampleValue == nil {
		unknown = append(unknown, fmt.Sprintf("%d samples", c.SamplesSent))
	}
	if c.PointsAwarded != 0 && c.PointsValue == nil {
		unknown = append(unknown, fmt.Sprintf("%d points", c.PointsAwarded))
	}
	if len(unknown) > 0 {
		s += " + " + strings.Join(unknown, ", ") + " unvalued"
	}
	return s
}

func rulesCSV(w io.Writer, rep *reports.RulesReport) error {
	cw := csv.NewWriter(w)
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	cw.Write([]string{"rule_id", "action_type", "window_days", "conversion", "treatment_customers", "treatment_converted", "treatment_rate",
		"treatment_revenue", "holdout_customers", "holdout_converted", "holdout_rate", "holdout_revenue", "uplift", "ci_low", "ci_high",
		"significant", "incremental_revenue", "codes_redeemed", "code_value", "samples_sent", "sample_value", "points_awarded", "points_value",
		"cost_total", "maturing", "note"})
	for _, r := range rep.Rules {
		row := []string{r.RuleID, r.ActionType, strconv.FormatFloat(r.WindowDays, 'f', -1, 64), r.Conversion,
			strconv.Itoa(r.Treatment.Customers), strconv.Itoa(r.Treatment.Converted), num(r.Treatment.Rate), r.Treatment.Revenue}
		if h := r.Holdout; h != nil {
			row = append(row, strconv.Itoa(h.Customers), strconv.Itoa(h.Converted), num(h.Rate), h.Revenue)
		} else {
			row = append(row, "", "", "", "")
		}
		if u := r.Uplift; u != nil {
			row = append(row, num(&u.Absolute), num(&u.CILow), num(&u.CIHigh), strconv.FormatBool(u.Significant))
		} else {
			row = append(row, "", "", "", "")
		}
		inc := ""
		if r.IncrementalRevenue != nil {
			inc = *r.IncrementalRevenue
		}
		opt := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		row = append(row, inc, strconv.Itoa(r.Cost.CodesRedeemed), r.Cost.CodeValue, strconv.Itoa(r.Cost.SamplesSent), opt(r.Cost.SampleValue),
			strconv.FormatInt(r.Cost.PointsAwarded, 10), opt(r.Cost.PointsValue), r.Cost.Total, strconv.Itoa(r.Maturing), r.Note)
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}
