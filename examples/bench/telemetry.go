package main

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/actionvector/tasks/taskcreate"
)

// sdk is the OpenTelemetry SDK as a service in production would have it:
// every span sampled and exported through a batch processor (here to an
// in-memory exporter), metrics aggregated for the Prometheus exporter, as
// the tasks command (cmd/tasks) has them.
type sdk struct {
	tp *sdktrace.TracerProvider
	mp *sdkmetric.MeterProvider
}

func newSDK() (*sdk, error) {
	exporter, err := otelprometheus.New(otelprometheus.WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		return nil, err
	}
	return &sdk{
		tp: sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewInMemoryExporter())),
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter)),
	}, nil
}

func (s *sdk) shutdown(ctx context.Context) error {
	return errors.Join(s.tp.Shutdown(ctx), s.mp.Shutdown(ctx))
}

// comparisons compare an update on the no-op providers, what a service
// records with when no SDK is installed, with the same update on the SDK.
func (s *sdk) comparisons(cfg config, newService func(...taskcreate.Option) *taskcreate.Service) []comparison {
	plain := newService(taskcreate.WithTracerProvider(tracenoop.NewTracerProvider()), taskcreate.WithMeterProvider(metricnoop.NewMeterProvider()))
	with := newService(taskcreate.WithTracerProvider(s.tp), taskcreate.WithMeterProvider(s.mp))
	return []comparison{{phase: "telemetry", what: "the OpenTelemetry SDK", pairs: cfg.pairs,
		plain: updateCall{svc: plain}, with: updateCall{svc: with}}}
}

// measureTelemetry times updates on the no-op providers and on the SDK,
// alternately.
func measureTelemetry(ctx context.Context, cfg config, db database) (*comparisonReport, error) {
	sdk, err := newSDK()
	if err != nil {
		return nil, err
	}
	defer sdk.shutdown(context.WithoutCancel(ctx))
	return measureComparisons(ctx, cfg, db, sdk.comparisons)
}
