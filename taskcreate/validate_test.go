package taskcreate_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

func validRequest() taskcreate.Request {
	return taskcreate.Request{
		OrganizationID: "550e8400-e29b-41d4-a716-446655440001",
		WorkflowRunID:  "workflow-run-uuid-abc123",
		Domains:        []taskcreate.Domain{taskcreate.Restock},
		MinConfidence:  0.6,
		Perimeter:      []taskcreate.Pair{{VariantID: "variant-uuid-1", ShopID: "shop-uuid-1"}},
	}
}

// fieldCodes flattens a validation error into "field=CODE" strings.
func fieldCodes(t *testing.T, err error) []string {
	t.Helper()
	require.ErrorIs(t, err, taskcreate.ErrInvalidRequest)
	var ve *taskcreate.ValidationError
	require.ErrorAs(t, err, &ve)
	var out []string
	for _, f := range ve.Fields {
		assert.NotEmpty(t, f.Message, "field %s has no message", f.Field)
		out = append(out, f.Field+"="+f.Code)
	}
	return out
}

func TestCreateTasksRejectsInvalidRequests(t *testing.T) {
	const missing, invalid = taskcreate.CodeMissingRequiredField, taskcreate.CodeValidationError
	tests := []struct {
		name   string
		modify func(r *taskcreate.Request)
		want   []string
	}{
		{"empty organization", func(r *taskcreate.Request) { r.OrganizationID = "" }, []string{"organizationId=" + missing}},
		{"blank organization", func(r *taskcreate.Request) { r.OrganizationID = " \t " }, []string{"organizationId=" + missing}},
		{"long organization", func(r *taskcreate.Request) { r.OrganizationID = strings.Repeat("o", 256) }, []string{"organizationId=" + invalid}},
		{"control character in run", func(r *taskcreate.Request) { r.WorkflowRunID = "run\x00" }, []string{"workflowRunId=" + invalid}},
		{"DEL in run", func(r *taskcreate.Request) { r.WorkflowRunID = "run\x7f" }, []string{"workflowRunId=" + invalid}},
		{"invalid UTF-8 in run", func(r *taskcreate.Request) { r.WorkflowRunID = "run\xff" }, []string{"workflowRunId=" + invalid}},
		{"nil domains", func(r *taskcreate.Request) { r.Domains = nil }, []string{"domains=" + missing}},
		{"empty domains", func(r *taskcreate.Request) { r.Domains = []taskcreate.Domain{} }, []string{"domains=" + invalid}},
		{"unknown domain", func(r *taskcreate.Request) { r.Domains = []taskcreate.Domain{"restock", "Restock", "pricing"} },
			[]string{"domains[1]=" + invalid, "domains[2]=" + invalid}},
		{"confidence below 0", func(r *taskcreate.Request) { r.MinConfidence = -0.01 }, []string{"minConfidence=" + invalid}},
		{"confidence above 1", func(r *taskcreate.Request) { r.MinConfidence = 1.0001 }, []string{"minConfidence=" + invalid}},
		{"confidence NaN", func(r *taskcreate.Request) { r.MinConfidence = math.NaN() }, []string{"minConfidence=" + invalid}},
		{"confidence infinite", func(r *taskcreate.Request) { r.MinConfidence = math.Inf(1) }, []string{"minConfidence=" + invalid}},
		{"retire fraction below 0", func(r *taskcreate.Request) { r.MaxRetireFraction = ptr(-0.1) }, []string{"maxRetireFraction=" + invalid}},
		{"retire fraction above 1", func(r *taskcreate.Request) { r.MaxRetireFraction = ptr(1.5) }, []string{"maxRetireFraction=" + invalid}},
		{"retire fraction NaN", func(r *taskcreate.Request) { r.MaxRetireFraction = ptr(math.NaN()) }, []string{"maxRetireFraction=" + invalid}},
		{"snapshot date at noon", func(r *taskcreate.Request) { r.SnapshotDate = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) },
			[]string{"snapshotDate=" + invalid}},
		{"snapshot date at midnight elsewhere", func(r *taskcreate.Request) {
			r.SnapshotDate = time.Date(2026, 11, 27, 0, 0, 0, 0, time.FixedZone("", 3600))
		}, []string{"snapshotDate=" + invalid}},
		{"snapshot date in year 10000", func(r *taskcreate.Request) { r.SnapshotDate = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
			[]string{"snapshotDate=" + invalid}},
		{"bad pairs", func(r *taskcreate.Request) {
			r.Perimeter = []taskcreate.Pair{{VariantID: "v", ShopID: "s"}, {VariantID: "", ShopID: "s"}, {VariantID: "v", ShopID: "s\n"}}
		}, []string{"perimeter[1].variantId=" + missing, "perimeter[2].shopId=" + invalid}},
		{"everything at once", func(r *taskcreate.Request) {
			*r = taskcreate.Request{MinConfidence: 2, Perimeter: []taskcreate.Pair{{}}}
		}, []string{"organizationId=" + missing, "workflowRunId=" + missing, "domains=" + missing, "minConfidence=" + invalid,
			"perimeter[0].variantId=" + missing, "perimeter[0].shopId=" + missing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := &fakeStore{}
			req := validRequest()
			tt.modify(&req)
			res, err := taskcreate.New(ts).CreateTasks(t.Context(), req)
			assert.Equal(t, tt.want, fieldCodes(t, err))
			assert.Zero(t, res)
			assert.Zero(t, ts.calls.Load(), "an invalid request reached the store")
		})
	}
}

func TestCreateTasksAcceptsBoundaryValues(t *testing.T) {
	tests := []struct {
		name   string
		modify func(r *taskcreate.Request)
	}{
		{"min confidence 0", func(r *taskcreate.Request) { r.MinConfidence = 0 }},
		{"min confidence 1", func(r *taskcreate.Request) { r.MinConfidence = 1 }},
		{"255-byte ids", func(r *taskcreate.Request) { r.OrganizationID = strings.Repeat("é", 127) + "o" }},
		{"surrounding spaces are kept", func(r *taskcreate.Request) { r.WorkflowRunID = " run " }},
		{"nil perimeter", func(r *taskcreate.Request) { r.Perimeter = nil }},
		{"retire fraction 0", func(r *taskcreate.Request) { r.MaxRetireFraction = ptr(0.0) }},
		{"retire fraction 1", func(r *taskcreate.Request) { r.MaxRetireFraction = ptr(1.0) }},
		{"snapshot date", func(r *taskcreate.Request) { r.SnapshotDate = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC) }},
		{"perimeter at the limit", func(r *taskcreate.Request) {
			r.Perimeter = []taskcreate.Pair{{VariantID: "a", ShopID: "s"}, {VariantID: "b", ShopID: "s"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := &fakeStore{}
			req := validRequest()
			tt.modify(&req)
			res, err := taskcreate.New(ts, taskcreate.WithMaxPerimeter(2)).CreateTasks(t.Context(), req)
			require.NoError(t, err)
			assert.Equal(t, req.WorkflowRunID, res.WorkflowRunID)
			if len(req.Perimeter) > 0 {
				assert.EqualValues(t, 1, ts.calls.Load())
			}
		})
	}
}

func TestCreateTasksRejectsOversizedPerimeterWithoutCheckingPairs(t *testing.T) {
	req := validRequest()
	req.Perimeter = make([]taskcreate.Pair, 3) // empty pairs: each would be two errors
	_, err := taskcreate.New(&fakeStore{}, taskcreate.WithMaxPerimeter(2)).CreateTasks(t.Context(), req)
	assert.Equal(t, []string{"perimeter=" + taskcreate.CodeValidationError}, fieldCodes(t, err))
}

func TestValidationErrorIsBounded(t *testing.T) {
	req := validRequest()
	req.Perimeter = make([]taskcreate.Pair, 5000)
	_, err := taskcreate.New(&fakeStore{}).CreateTasks(t.Context(), req)
	codes := fieldCodes(t, err)
	assert.Len(t, codes, taskcreate.MaxFieldErrors)
	assert.Equal(t, "perimeter[0].variantId="+taskcreate.CodeMissingRequiredField, codes[0])
	assert.Equal(t, "="+taskcreate.CodeValidationError, codes[len(codes)-1], "the last entry says the list is cut")
	assert.Contains(t, err.Error(), "perimeter[0].variantId is required")
	assert.Contains(t, err.Error(), fmt.Sprintf("(and %d more)", taskcreate.MaxFieldErrors-3))
}

func TestValidationErrorSummary(t *testing.T) {
	f := func(field, message string) taskcreate.FieldError {
		return taskcreate.FieldError{Field: field, Code: taskcreate.CodeValidationError, Message: message}
	}
	tests := []struct {
		fields []taskcreate.FieldError
		want   string
	}{
		{nil, "invalid request"},
		{[]taskcreate.FieldError{f("domains", "is required")}, "invalid request: domains is required"},
		{[]taskcreate.FieldError{f("", "must be a JSON object, got an empty body")}, "invalid request: must be a JSON object, got an empty body"},
		{[]taskcreate.FieldError{f("domains[0]", `must be one of "restock", "rebalance"`), f("b", "is bad"), f("c", "is bad")},
			`invalid request: domains[0] must be one of "restock", "rebalance"; b is bad; c is bad`},
		{[]taskcreate.FieldError{f("a", "is bad"), f("b", "is bad"), f("c", "is bad"), f("d", "is bad"), f("e", "is bad")},
			"invalid request: a is bad; b is bad; c is bad (and 2 more)"},
	}
	for _, tt := range tests {
		ve := &taskcreate.ValidationError{Fields: tt.fields}
		assert.Equal(t, tt.want, ve.Summary())
		assert.Equal(t, "taskcreate: "+tt.want, ve.Error())
	}
}

func TestValidateActionVectors(t *testing.T) {
	qty, big, nan, inf := 3, math.MaxInt32+1, math.NaN(), math.Inf(1)
	good := taskcreate.ActionVector{OrganizationID: "o", VariantID: "v", ShopID: "s", Domain: taskcreate.Restock,
		SnapshotDate: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), RecommendedQty: &qty, Snapshot: json.RawMessage(`{"why":1}`)}
	require.NoError(t, store.ValidateActionVectors([]taskcreate.ActionVector{good}))

	bad := taskcreate.ActionVector{OrganizationID: "o", ShopID: "s", Domain: "pricing", RecommendedQty: &big,
		RecommendedDiscountPct: &inf, Confidence: &nan, Snapshot: json.RawMessage(`{"why":`)}
	err := store.ValidateActionVectors([]taskcreate.ActionVector{good, bad})
	assert.Equal(t, []string{
		"[1].variantId=MISSING_REQUIRED_FIELD", "[1].snapshotDate=MISSING_REQUIRED_FIELD", "[1].domain=VALIDATION_ERROR",
		"[1].recommendedQty=VALIDATION_ERROR", "[1].recommendedDiscountPct=VALIDATION_ERROR",
		"[1].confidence=VALIDATION_ERROR", "[1].snapshot=VALIDATION_ERROR",
	}, fieldCodes(t, err))

	noSnapshot := good
	noSnapshot.Snapshot = nil
	assert.Equal(t, []string{"[0].snapshot=MISSING_REQUIRED_FIELD"},
		fieldCodes(t, store.ValidateActionVectors([]taskcreate.ActionVector{noSnapshot})))
}

func TestValidateTaskFilterAndStatusChange(t *testing.T) {
	require.NoError(t, store.ValidateTaskFilter(taskcreate.TaskFilter{OrganizationID: "o"}))
	assert.Equal(t, []string{"organizationId=MISSING_REQUIRED_FIELD", "workflowRunId=VALIDATION_ERROR", "statuses[1]=VALIDATION_ERROR"},
		fieldCodes(t, store.ValidateTaskFilter(taskcreate.TaskFilter{WorkflowRunID: "r\x01",
			Statuses: []taskcreate.Status{taskcreate.StatusOpen, "open"}})))
	require.NoError(t, store.ValidateStatusChange("o", taskcreate.StatusDone))
	assert.Equal(t, []string{"status=VALIDATION_ERROR"}, fieldCodes(t, store.ValidateStatusChange("o", "CLOSED")))
}

func TestDateOf(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	// 00:30 in Paris is still the previous day in UTC: the date is Paris's.
	got := store.DateOf(time.Date(2026, 3, 1, 0, 30, 0, 0, paris))
	assert.Equal(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), got)
}

func TestErrorsAreDistinct(t *testing.T) {
	base := errors.New("database is locked")
	err := store.MarkTransient(base)
	assert.ErrorIs(t, err, taskcreate.ErrTransient)
	assert.ErrorIs(t, err, base)
	assert.Equal(t, base.Error(), err.Error())
	assert.NoError(t, store.MarkTransient(nil))
	assert.NotErrorIs(t, base, taskcreate.ErrTransient)
}

func ptr[T any](v T) *T { return &v }
