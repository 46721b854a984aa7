package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// readyTimeout bounds the database ping of GET /readyz.
const readyTimeout = time.Second

// Paths of the admin listener.
const (
	healthPath  = "/healthz"
	readyPath   = "/readyz"
	metricsPath = "/metrics"
)

// newMetrics returns the meter provider the service records with, and the
// Prometheus registry that serves what it records, with the Go runtime's,
// the process's and the connection pool's metrics beside.
//
// The library records through the OpenTelemetry API, so OpenTelemetry's
// Prometheus exporter serves its instruments as they are: with
// client_golang alone, every instrument would have to be declared twice.
// The registry is the server's own, not the global one, so that two
// servers in one process (as in the tests) do not collide.
func newMetrics(db *sql.DB) (*sdkmetric.MeterProvider, *prometheus.Registry, error) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprometheus.New(otelprometheus.WithRegisterer(registry))
	if err != nil {
		return nil, nil, fmt.Errorf("metrics exporter: %w", err)
	}
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db, "tasks"),
	} {
		if err := registry.Register(c); err != nil {
			return nil, nil, fmt.Errorf("metrics collector: %w", err)
		}
	}
	return sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter)), registry, nil
}

// adminHandler serves the endpoints an orchestrator and a scraper call:
// GET /healthz answers 200 while the process is up; GET /readyz answers 200
// when the database answers a ping within readyTimeout, 503 otherwise; GET
// /metrics serves the registry in Prometheus text format. They take no
// token: the admin listener is meant for a private address.
func adminHandler(db *sql.DB, registry *prometheus.Registry, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+healthPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET "+readyPath, func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := db.PingContext(ctx); err != nil {
			logger.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "database unreachable")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET "+metricsPath, promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	return mux
}
