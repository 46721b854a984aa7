package taskhttp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// maxRetireFraction and snapshotDate are optional; a value of the wrong
// form is a 400 on its field.
func TestDecodeRetireFractionAndSnapshotDate(t *testing.T) {
	body := func(extra string) string { return strings.Replace(seedBody, `"domains"`, extra+`,"domains"`, 1) }
	req, err := DecodeRequest(strings.NewReader(body(`"maxRetireFraction":0.8,"snapshotDate":"2026-11-27"`)))
	require.NoError(t, err)
	require.NotNil(t, req.MaxRetireFraction)
	assert.Equal(t, 0.8, *req.MaxRetireFraction)
	assert.Equal(t, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), req.SnapshotDate)

	req, err = DecodeRequest(strings.NewReader(body(`"maxRetireFraction":null,"snapshotDate":null`)))
	require.NoError(t, err)
	assert.Nil(t, req.MaxRetireFraction)
	assert.True(t, req.SnapshotDate.IsZero())

	for extra, field := range map[string]string{
		`"snapshotDate":"2026-11-27T00:00:00Z"`: "snapshotDate",
		`"snapshotDate":"2026-02-30"`:           "snapshotDate",
		`"snapshotDate":"27/11/2026"`:           "snapshotDate",
		`"snapshotDate":20261127`:               "snapshotDate",
		`"maxRetireFraction":"half"`:            "maxRetireFraction",
	} {
		_, err := DecodeRequest(strings.NewReader(body(extra)))
		assert.Equal(t, []string{field + "=" + CodeValidationError}, fieldCodesOf(t, err), extra)
	}

	// Out of range is the service's to say, on the same field.
	svc := taskcreate.New(storeFunc(func(context.Context, *store.Batch) (store.Outcome, error) {
		return store.Outcome{}, nil
	}))
	req, err = DecodeRequest(strings.NewReader(body(`"maxRetireFraction":1.5`)))
	require.NoError(t, err)
	_, err = svc.CreateTasks(t.Context(), req)
	assert.Equal(t, []string{"maxRetireFraction=" + CodeValidationError}, fieldCodesOf(t, err))

	// The wire form of a request round-trips both.
	want := req
	want.MaxRetireFraction, want.SnapshotDate = ptrTo(0.25), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	encoded, err := json.Marshal(NewRequestBody(want))
	require.NoError(t, err)
	got, err := DecodeRequest(strings.NewReader(string(encoded)))
	require.NoError(t, err)
	assert.Equal(t, want.SnapshotDate, got.SnapshotDate)
	assert.Equal(t, *want.MaxRetireFraction, *got.MaxRetireFraction)
}

// A call the retirement budget refuses is a 409 with the numbers.
func TestHandlerRetireBudgetExceeded(t *testing.T) {
	svc := taskcreate.New(storeFunc(func(context.Context, *store.Batch) (store.Outcome, error) {
		return store.Outcome{}, &taskcreate.RetireBudgetError{WouldRetire: 30, Open: 40, Budget: 0.5}
	}))
	h, err := NewHandler(svc, Options{Token: testToken})
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(strings.Replace(seedBody, `"domains"`, `"retireStale":true,"domains"`, 1)))
	r.Header.Set("Authorization", "Bearer "+testToken)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusConflict, w.Code, w.Body.String())
	assert.JSONEq(t, `{"success":false,"errorCode":"RETIRE_BUDGET_EXCEEDED",
		"error":"the call would retire 30 of 40 open tasks, more than its budget of 0.5 allows; no task was written (maxRetireFraction replaces the budget for a run whose recommendations really ended)",
		"retire":{"wouldRetire":30,"open":40,"budget":0.5}}`, w.Body.String())
}

func ptrTo[T any](v T) *T { return &v }

// fieldCodesOf flattens a validation error into "field=CODE" strings.
func fieldCodesOf(t *testing.T, err error) []string {
	t.Helper()
	var invalid *taskcreate.ValidationError
	require.ErrorAs(t, err, &invalid)
	var out []string
	for _, f := range invalid.Fields {
		out = append(out, f.Field+"="+f.Code)
	}
	return out
}
