package taskhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// The request's span belongs to the router: the handler annotates it with
// its answer, and its log line carries the trace id.
func TestHandlerAnnotatesTheRequestSpan(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	failing := storeFunc(func(context.Context, *store.Batch) (store.Outcome, error) {
		return store.Outcome{}, errors.New("disk I/O error")
	})
	for _, c := range []struct {
		store      taskcreate.TaskStore
		body       string
		status     int
		code       string
		spanStatus codes.Code
	}{
		{newSeededStore(t), seedBody, 200, "", codes.Unset},
		{newSeededStore(t), body("minConfidence", `"high"`), 400, CodeValidationError, codes.Unset},
		{failing, seedBody, 500, CodeDatabaseError, codes.Error},
	} {
		h, err := NewHandler(taskcreate.New(c.store, taskcreate.WithTracerProvider(tp)), Options{Token: testToken, Logger: logger})
		require.NoError(t, err)
		// The router's middleware: a server span around the handler.
		ctx, span := tp.Tracer("router").Start(t.Context(), "POST "+Path, trace.WithSpanKind(trace.SpanKindServer))
		r := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(c.body)).WithContext(ctx)
		r.Header.Set("Authorization", "Bearer "+testToken)
		r.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), r)
		span.End()

		ended := spans.Ended()
		server := ended[len(ended)-1]
		require.Equal(t, "POST "+Path, server.Name())
		got := map[attribute.Key]attribute.Value{}
		for _, kv := range server.Attributes() {
			got[kv.Key] = kv.Value
		}
		assert.Equal(t, int64(c.status), got["http.response.status_code"].AsInt64())
		assert.Equal(t, c.code, got["actionvector.error_code"].AsString())
		assert.Equal(t, c.spanStatus, server.Status().Code, "a server span is an error for a 5xx only")

		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &entry))
		assert.Equal(t, span.SpanContext().TraceID().String(), entry["trace_id"])
	}
}
