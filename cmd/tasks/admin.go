package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	_ "modernc.org/sqlite" // the "sqlite" driver
)

// readyTimeout bounds each check of GET /readyz, the wait for its
// connection included.
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

// readiness checks the database on a pool of its own, of one connection
// kept open, apart from the calls' pool: calls may hold every connection
// of theirs for as long as they run, and a probe that queued behind them
// would take a busy instance for a dead one.
type readiness struct {
	db   *sql.DB
	ping func(context.Context) error
}

// openReadiness opens the check's pool on the database openStore opens
// for c: PostgreSQL when c has a database URL, else the SQLite file. It
// does not connect; openStore has already.
func openReadiness(c storeConfig) (*readiness, error) {
	driver, dsn := "pgx", c.databaseURL
	if dsn == "" {
		// A second connection to the file reads beside the store's
		// writer, since the store puts the file in WAL mode; query_only
		// keeps it from ever writing, and the busy timeout rides out a
		// moment's lock within readyTimeout. An in-memory database is the
		// store's connection's alone: this one opens an empty one of its
		// own, so readiness is then the process's.
		driver, dsn = "sqlite", sqliteDSN(c.sqlitePath, "busy_timeout(500)", "query_only(1)")
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("readiness pool: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return &readiness{db: db, ping: db.PingContext}, nil
}

// check reports whether the database answers within readyTimeout. It
// returns at the deadline even if the driver does not: a check stuck in a
// read that ignores ctx keeps the pool's one connection, so the checks
// after it give up on the pool's wait, within their own deadline.
func (r *readiness) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.ping(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close closes the check's pool.
func (r *readiness) Close() error { return r.db.Close() }

// adminHandler serves the endpoints an orchestrator and a scraper call:
// GET /healthz answers 200 while the process is up; GET /readyz answers 200
// when the database answers ready's check within readyTimeout, however busy
// the calls' pool is, and 503 otherwise; GET /metrics serves the registry
// in Prometheus text format. They take no token: the admin listener is
// meant for a private address.
func adminHandler(ready *readiness, registry *prometheus.Registry, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+healthPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET "+readyPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := ready.check(r.Context()); err != nil {
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
