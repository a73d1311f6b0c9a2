// Package metrics defines hookgate's Prometheus metrics on a private
// registry. It imports only the domain package and client_golang.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookgate/hookgate/internal/domain"
)

// Metrics holds every collector.
type Metrics struct {
	Registry *prometheus.Registry

	EventsIngested    *prometheus.CounterVec
	EventsIgnored     *prometheus.CounterVec
	EventsDuplicate   *prometheus.CounterVec
	DeliveriesCreated *prometheus.CounterVec
	DeliveryOutcomes  *prometheus.CounterVec
	AttemptDuration   prometheus.Histogram
	ResponseClasses   *prometheus.CounterVec
	EndToEnd          prometheus.Histogram
	QueueDepth        *prometheus.GaugeVec
	QueueOldest       *prometheus.GaugeVec
	HeldDeliveries    *prometheus.GaugeVec
	ReconcileLag      *prometheus.GaugeVec
	IngestLag         prometheus.Gauge
	Purged            *prometheus.CounterVec
}

// New registers the collectors on a fresh registry.
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	m := &Metrics{Registry: r}
	m.EventsIngested = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookgate_events_ingested_total", Help: "Events accepted, by source and type."}, []string{"source", "type"})
	m.EventsIgnored = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookgate_events_ignored_total", Help: "Odoo bodies or events accepted but never delivered, by source and reason (unmapped, own_write, rolled_back, state_changed)."}, []string{"source", "reason"})
	m.EventsDuplicate = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookgate_events_deduplicated_total", Help: "Bodies recognised as duplicates, by source."}, []string{"source"})
	m.DeliveriesCreated = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookgate_deliveries_created_total", Help: "Deliveries created by fan-out, by partner and initial status."}, []string{"partner", "status"})
	m.DeliveryOutcomes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookgate_delivery_attempts_total", Help: "Delivery attempts by partner and outcome (succeeded, retrying, failed)."}, []string{"partner", "outcome"})
	m.AttemptDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hookgate_attempt_duration_seconds", Help: "HTTP attempt duration.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 15)})
	m.ResponseClasses = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookgate_attempt_responses_total", Help: "Attempt results by status class (2xx, 3xx, 4xx, 5xx) or error class."}, []string{"class"})
	m.EndToEnd = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hookgate_end_to_end_seconds", Help: "Time from ingest to a successful delivery.", Buckets: prometheus.ExponentialBuckets(0.002, 2, 16)})
	m.QueueDepth = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hookgate_queue_depth", Help: "Tasks in a queue by state."}, []string{"queue", "state"})
	m.QueueOldest = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hookgate_queue_oldest_pending_seconds", Help: "Age of the oldest pending task in a queue."}, []string{"queue"})
	m.HeldDeliveries = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hookgate_deliveries_held", Help: "Deliveries currently held, by reason."}, []string{"reason"})
	m.ReconcileLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hookgate_reconcile_lag_seconds", Help: "Age of each source's reconciliation watermark."}, []string{"source"})
	m.IngestLag = prometheus.NewGauge(prometheus.GaugeOpts{Name: "hookgate_ingest_lag_seconds", Help: "Age of the oldest accepted event not yet fanned out."})
	m.Purged = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookgate_retention_purged_total", Help: "Rows removed by the retention job, by table."}, []string{"table"})
	for _, c := range []prometheus.Collector{m.EventsIngested, m.EventsIgnored, m.EventsDuplicate, m.DeliveriesCreated,
		m.DeliveryOutcomes, m.AttemptDuration, m.ResponseClasses, m.EndToEnd, m.QueueDepth, m.QueueOldest,
		m.HeldDeliveries, m.ReconcileLag, m.IngestLag, m.Purged} {
		f(c)
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Ingested implements service.IngestCounters.
func (m *Metrics) Ingested(source, eventType string) {
	m.EventsIngested.WithLabelValues(source, eventType).Inc()
}

// Ignored implements service.IngestCounters.
func (m *Metrics) Ignored(source, reason string) {
	m.EventsIgnored.WithLabelValues(source, reason).Inc()
}

// Duplicate implements service.IngestCounters.
func (m *Metrics) Duplicate(source string) { m.EventsDuplicate.WithLabelValues(source).Inc() }

// DeliveryCreated counts a fan-out result.
func (m *Metrics) DeliveryCreated(d domain.Delivery) {
	m.DeliveriesCreated.WithLabelValues(d.PartnerID, string(d.Status)).Inc()
}

// Attempt records one attempt.
func (m *Metrics) Attempt(a domain.Attempt, status domain.DeliveryStatus, eventReceived time.Time) {
	outcome := string(status)
	if status == domain.DeliveryPending {
		outcome = "retrying"
	}
	m.DeliveryOutcomes.WithLabelValues(a.PartnerID, outcome).Inc()
	m.AttemptDuration.Observe(a.Duration.Seconds())
	class := a.ErrorClass
	if a.ResponseStatus > 0 {
		class = strconv.Itoa(a.ResponseStatus/100) + "xx"
	}
	m.ResponseClasses.WithLabelValues(class).Inc()
	if status == domain.DeliverySucceeded && !eventReceived.IsZero() && a.Trigger == domain.TriggerScheduled && a.Number == 1 {
		m.EndToEnd.Observe(time.Since(eventReceived).Seconds())
	}
}
