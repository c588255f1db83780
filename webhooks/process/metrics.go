package process

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the processor.
type Metrics struct {
	Processed  prometheus.Counter
	ProcessLag prometheus.Histogram
	Deadlocks  prometheus.Counter
	Careful    prometheus.Counter
	Batch      prometheus.Histogram
	Unparsed   prometheus.Counter
	// Outcomes counts orders and reviews by the action they are attributed
	// to (last touch), as they are processed.
	Outcomes *prometheus.CounterVec
	// Planned counts the actions the rules planned, by the status they were
	// stored with and the class of the reason a suppressed one carries;
	// Cancelled the pending actions the rules cancelled, by reason class.
	// Both count once the transaction that stored them commits.
	Planned   *prometheus.CounterVec
	Cancelled *prometheus.CounterVec
}

// NewMetrics registers the processor's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Processed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "treue_inbox_processed_total", Help: "Deliveries processed into journey events.",
		}),
		ProcessLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "treue_inbox_lag_seconds", Help: "Time from acknowledging a delivery to processing it.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 300},
		}),
		Deadlocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "treue_inbox_deadlocks_total", Help: "Inbox batches the database refused for a lock conflict: a deadlock between processors, a lock wait timeout, a busy SQLite file (each is run again).",
		}),
		Careful: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "treue_inbox_careful_batches_total", Help: "Inbox batches run again with a savepoint per delivery because a delivery failed or the batch's state was out of date.",
		}),
		Batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "treue_inbox_batch_deliveries", Help: "Deliveries per processing transaction (more while a backlog waits).",
			Buckets: []float64{1, 5, 10, 25, 50, 100, 200, 500, 1000},
		}),
		Unparsed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "treue_inbox_unparsed_total", Help: "Stored deliveries the processor could not parse (marked unparsed; treue inbox replay processes them again). Deliveries the intake could not parse count as treue_webhooks_total{outcome=\"unparsed\"}.",
		}),
		Outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treue_action_outcomes_total",
			Help: "Orders and reviews attributed to the last action (sent, or held back for the holdout) whose window holds them, as they are processed; treue report rules recomputes them exactly, codes and late events included.",
		}, []string{"shop", "rule", "outcome"}),
		Planned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treue_actions_planned_total",
			Help: "Actions the rules planned, by rule, the status they were stored with (scheduled or suppressed) and the class of a suppression's reason (holdout, no_consent, category_opt_out, frequency_cap, ...; empty for scheduled ones). A later change of verdict is not counted again.",
		}, []string{"shop", "rule", "status", "reason"}),
		Cancelled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treue_actions_cancelled_total",
			Help: "Pending actions the rules cancelled before they were sent, by rule and the class of the reason (same_sku_ordered, consent_revoked, ...).",
		}, []string{"shop", "rule", "reason"}),
	}
	reg.MustRegister(m.Processed, m.ProcessLag, m.Deadlocks, m.Careful, m.Batch, m.Unparsed, m.Outcomes, m.Planned, m.Cancelled)
	return m
}
