package node

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/twinvault/twinvault/audit"
)

// metrics are the node's Prometheus metrics, served at GET /metrics to a
// scraper that presents the bearer token. They carry operation names,
// outcomes (error codes) and timings only: no workspace, entity, key or
// value a user chose appears in a label.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// services are the label values of the service; any other is "other".
var services = map[string]bool{"iottwinmaker": true, "iam": true, "sts": true, "cloudtrail": true, "s3": true, KeyService: true}

func newMetrics(n *Node) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "twinvault_api_requests_total",
		Help: "API calls answered, by service, operation and outcome (OK or the error code)."}, []string{"service", "operation", "outcome"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "twinvault_api_request_duration_seconds",
		Help:    "Time from a call's arrival to its answer, by service and operation.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12)}, []string{"service", "operation"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "twinvault_api_requests_in_flight", Help: "API calls being served."})
	draining := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "twinvault_node_draining", Help: "1 while the node is stopping and reports itself not ready."},
		func() float64 { return b2f(n.draining.Load()) })
	shared := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "twinvault_node_shared_store", Help: "1 when the store is shared with other nodes (PostgreSQL)."},
		func() float64 { return b2f(n.barrier.Shared()) })
	rewrap := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "twinvault_keys_rewrap_running", Help: "1 while this node re-seals data under new keys."},
		func() float64 {
			n.keys.mu.Lock()
			defer n.keys.mu.Unlock()
			return b2f(n.keys.status.Running)
		})
	audited := func(name, help string, f func(audit.Stats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return f(n.audit.Stats()) })
	}
	m.reg.MustRegister(
		audited("twinvault_audit_entries_total", "Audit log entries (events and reservations) made durable.",
			func(s audit.Stats) float64 { return float64(s.Entries) }),
		audited("twinvault_audit_writes_total", "Writes of the audit log, each carrying the entries gathered meanwhile and waiting for one sync.",
			func(s audit.Stats) float64 { return float64(s.Batches) }),
		audited("twinvault_audit_refused_total", "Appends to the audit log that failed or gave up waiting for their sync; the calls that needed them were refused (503).",
			func(s audit.Stats) float64 { return float64(s.Refused) }),
		audited("twinvault_audit_wait_seconds_total", "Time the durable audit log entries took from their append to their sync, summed.",
			func(s audit.Stats) float64 { return s.Wait.Seconds() }))
	if _, ok := n.store.(walSyncer); ok {
		m.reg.MustRegister(walSyncs{n.WALSyncs,
			prometheus.NewDesc("twinvault_kv_wal_syncs_total", "Syncs of the embedded store's write-ahead log; every durable write waits for one.", nil, nil),
			prometheus.NewDesc("twinvault_kv_wal_sync_seconds_total", "Time the embedded store's write-ahead log syncs took, summed.", nil, nil)})
	}
	leases := prometheus.NewDesc("twinvault_lease_held", "1 for each lease on background work this node holds.", []string{"lease"}, nil)
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, draining, shared, rewrap,
		leaseCollector{n: n, desc: leases},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (m *metrics) observe(service, operation, outcome string, took time.Duration) {
	if service == "" {
		service = "iottwinmaker"
	}
	if !services[service] {
		service, operation = "other", ""
	}
	m.requests.WithLabelValues(service, operation, outcome).Inc()
	m.duration.WithLabelValues(service, operation).Observe(took.Seconds())
}

// count wraps the API handler to count the calls in flight.
func (m *metrics) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		h.ServeHTTP(w, r)
	})
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// walSyncs reads, at each scrape, the embedded store's sync counts.
type walSyncs struct {
	syncs       func() (uint64, time.Duration, bool)
	count, took *prometheus.Desc
}

func (c walSyncs) Describe(ch chan<- *prometheus.Desc) { ch <- c.count; ch <- c.took }

func (c walSyncs) Collect(ch chan<- prometheus.Metric) {
	n, took, ok := c.syncs()
	if !ok {
		return // closing
	}
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.CounterValue, float64(n))
	ch <- prometheus.MustNewConstMetric(c.took, prometheus.CounterValue, took.Seconds())
}

// leaseCollector reads, at each scrape, which leases this node holds.
type leaseCollector struct {
	n    *Node
	desc *prometheus.Desc
}

func (c leaseCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c leaseCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, name := range []string{rewrapLease, scanLease, orphansLease} {
		holder, err := c.n.leases.holderOf(ctx, name)
		if err != nil {
			continue
		}
		held := holder == c.n.leases.holder || !c.n.barrier.Shared()
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, b2f(held), name)
	}
}
