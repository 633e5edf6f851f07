package statusapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/reconcile"
)

// MetricPrefix starts the name of every metric of the agent's own.
const MetricPrefix = "reconciler_"

// Pass results, the result label of reconciler_passes_total.
const (
	// PassSucceeded: the host was read, every source too, and no action
	// failed and no manifest has an error.
	PassSucceeded = "success"
	// PassFailed: an action failed, a manifest has an error or a source
	// could not be read.
	PassFailed = "failed"
	// PassError: the host could not be read; nothing was planned.
	PassError = "error"
)

// listTimeout bounds the read of the compute systems a scrape makes.
const listTimeout = 10 * time.Second

// Metrics are the agent's Prometheus metrics (GET /metrics), fed by
// Observe after each pass; the containers by isolation and state are
// read from the driver at each scrape. The registry also holds the Go and
// process collectors, and takes the collectors of other parts of the
// agent (Registerer: the notifications').
type Metrics struct {
	reg *prometheus.Registry

	passes      *prometheus.CounterVec
	duration    prometheus.Histogram
	actions     *prometheus.CounterVec
	drift       *prometheus.CounterVec
	revision    *prometheus.GaugeVec
	sourceUp    *prometheus.GaugeVec
	lastSuccess prometheus.Gauge
	held        prometheus.Gauge
	problems    *prometheus.GaugeVec

	mu        sync.Mutex
	converged reconcile.Names // what the previous pass left as declared
}

// NewMetrics returns the metrics of an agent of owner driving d;
// suspended, if set, is reconciler_suspended.
func NewMetrics(d driver.Driver, owner string, suspended func() bool) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := factory{m.reg}
	m.passes = f.counterVec("passes_total", "Passes run, by result: success, failed (an action failed, a manifest has an error or a source could not be read), error (the host could not be read).", "result")
	m.duration = f.histogram("pass_duration_seconds", "How long passes took, reading the sources and the host, planning and applying.",
		[]float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600})
	m.actions = f.counterVec("actions_total", "Actions of passes by kind (create, recreate, remove) and outcome (done, failed; planned in a dry run or while suspended). Held removals are reconciler_removals_held.", "kind", "outcome")
	m.drift = f.counterVec("drift_total", "Containers found changed behind the agent's back, by kind: vanished, stopped, duplicate (a container the previous pass left as declared and whose manifest did not change). Each occurrence counts once.", "kind")
	m.revision = f.gaugeVec("source_info", "1 for each source with the revision its last snapshot came from (a git commit; empty for a folder).", "source", "revision")
	m.sourceUp = f.gaugeVec("source_up", "1 when the source could be read by the last pass, else 0.", "source")
	m.lastSuccess = f.gauge("last_success_timestamp_seconds", "When the last successful pass ended (Unix time); 0 before the first.")
	m.held = f.gauge("removals_held", "Removals the last pass held (beyond --max-removals, or because the desired set is partial).")
	m.problems = f.gaugeVec("manifest_problems", "Problems of the desired set in the last pass, by severity (error, warning).", "severity")
	if suspended != nil {
		f.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: MetricPrefix + "suspended",
			Help: "1 while the agent is suspended (it plans but applies nothing), else 0."}, func() float64 { return boolFloat(suspended()) }))
	}
	m.reg.MustRegister(&containerCollector{d: d, owner: owner, desc: prometheus.NewDesc(MetricPrefix+"containers",
		"Compute systems of this agent's owner on the host, by isolation and state, read at each scrape.", []string{"isolation", "state"}, nil)})
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every series a query or an alert names exists from the start, at 0,
	// so that rate() and absent() see it before it first moves.
	for _, r := range []string{PassSucceeded, PassFailed, PassError} {
		m.passes.WithLabelValues(r)
	}
	for _, k := range []reconcile.ActionKind{reconcile.ActionCreate, reconcile.ActionRecreate, reconcile.ActionRemove} {
		for _, o := range []reconcile.Status{reconcile.StatusDone, reconcile.StatusFailed} {
			m.actions.WithLabelValues(string(k), string(o))
		}
	}
	for _, k := range []string{reconcile.DriftVanished, reconcile.DriftStopped, reconcile.DriftDuplicate} {
		m.drift.WithLabelValues(k)
	}
	for _, s := range []string{"error", "warning"} {
		m.problems.WithLabelValues(s)
	}
	return m
}

// Registerer is where other parts of the agent register their metrics.
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

// Gatherer is the registry, for tests and other exporters.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// ServeHTTP answers GET /metrics in the Prometheus exposition formats. A
// collector that fails (the driver could not be listed) leaves its family
// out and the rest is served.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
}

// Observe records a pass (reconcile.Agent's OnReport).
func (m *Metrics) Observe(r reconcile.PassReport) {
	m.duration.Observe(r.Duration.Seconds())
	m.revision.Reset()
	m.sourceUp.Reset()
	sourcesOK := true
	for _, s := range r.Sources {
		m.revision.WithLabelValues(s.Name, s.Revision).Set(1)
		m.sourceUp.WithLabelValues(s.Name).Set(boolFloat(s.Err == nil))
		sourcesOK = sourcesOK && s.Err == nil
	}
	if r.Err != nil {
		m.passes.WithLabelValues(PassError).Inc()
		return
	}
	held := 0
	for _, a := range r.Plan.Actions {
		if a.Status == reconcile.StatusHeld {
			held++
			continue
		}
		m.actions.WithLabelValues(string(a.Kind), string(a.Status)).Inc()
	}
	m.held.Set(float64(held))
	m.problems.WithLabelValues("error").Set(float64(len(r.Plan.Errors)))
	m.problems.WithLabelValues("warning").Set(float64(len(r.Plan.Warnings)))
	m.mu.Lock()
	for _, d := range r.Plan.Drift(m.converged) {
		m.drift.WithLabelValues(d.Kind).Inc()
	}
	m.converged = r.Plan.Converged()
	m.mu.Unlock()
	if !sourcesOK || r.Plan.Failed() {
		m.passes.WithLabelValues(PassFailed).Inc()
		return
	}
	m.passes.WithLabelValues(PassSucceeded).Inc()
	m.lastSuccess.Set(float64(r.Started.Add(r.Duration).UnixNano()) / 1e9)
}

// containerCollector counts the owner's compute systems by isolation and
// state at each scrape.
type containerCollector struct {
	d     driver.Driver
	owner string
	desc  *prometheus.Desc
}

func (c *containerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *containerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	list, err := c.d.List(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	type key struct{ isolation, state string }
	counts := make(map[key]int)
	for _, s := range list {
		if s.Owner == c.owner {
			counts[key{string(s.Isolation), string(s.State)}]++
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), k.isolation, k.state)
	}
}

// factory makes and registers the agent's metrics, named with
// MetricPrefix.
type factory struct{ reg *prometheus.Registry }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricPrefix + name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricPrefix + name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricPrefix + name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: MetricPrefix + name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
