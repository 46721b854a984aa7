package taskhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

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

// seedFields are the seed body's fields as raw JSON, in the order body writes them.
var seedFields = [][2]string{
	{"organizationId", `"550e8400-e29b-41d4-a716-446655440001"`},
	{"workflowRunId", `"workflow-run-uuid-abc123"`},
	{"domains", `["restock"]`},
	{"minConfidence", `0.6`},
	{"perimeter", `[{"shopId":"shop-uuid-1","variantId":"variant-uuid-1"},{"shopId":"shop-uuid-2","variantId":"variant-uuid-2"}]`},
}

// body returns the seed body with each (key, raw JSON) of changes applied:
// an existing field is replaced (removed when raw is ""), a new one appended.
func body(changes ...string) string {
	fields := append([][2]string(nil), seedFields...)
	for i := 0; i < len(changes); i += 2 {
		key, raw := changes[i], changes[i+1]
		found := false
		for j := range fields {
			if fields[j][0] == key {
				fields[j][1], found = raw, true
			}
		}
		if !found {
			fields = append(fields, [2]string{key, raw})
		}
	}
	var parts []string
	for _, f := range fields {
		if f[1] != "" {
			parts = append(parts, fmt.Sprintf("%q:%s", f[0], f[1]))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// success is the success envelope with the seed's run.
func success(created, updated, suppressed, skipped, unmatched int) string {
	return fmt.Sprintf(`{"success":true,"data":{"created":%d,"updated":%d,"suppressed":%d,"skipped":%d,"unmatched":%d,"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"workflow-run-uuid-abc123"}}`,
		created, updated, suppressed, skipped, unmatched)
}

func TestHandler(t *testing.T) {
	const (
		missing = CodeMissingRequiredField
		invalid = CodeValidationError
	)
	allMissing := []string{"organizationId " + missing, "workflowRunId " + missing, "domains " + missing,
		"minConfidence " + missing, "perimeter " + missing}
	golden := recordExchanges(t)
	tests := []struct {
		name    string
		method  string              // "" is POST
		header  map[string][]string // replaces the default header of that name; an empty slice removes it
		body    string
		maxBody int64 // Options.MaxBodyBytes
		chunked bool  // send no Content-Length

		wantStatus int
		wantBody   string   // the exact body of a 200
		wantCode   string   // errorCode of an error
		wantFields []string // "field code" of each fieldError, in order
		noStore    bool     // a 200 that has no candidate, so no store call
	}{
		// 200
		{name: "seed example", body: seedBody, wantStatus: 200, wantBody: seedResponse},
		{name: "seed example sent chunked", body: seedBody, chunked: true, wantStatus: 200, wantBody: seedResponse},
		{name: "charset utf-8, any case", body: seedBody, header: map[string][]string{"Content-Type": {"Application/JSON; charset=UTF-8"}},
			wantStatus: 200, wantBody: seedResponse},
		{name: "bearer scheme in lower case", body: seedBody, header: map[string][]string{"Authorization": {"bearer " + testToken}},
			wantStatus: 200, wantBody: seedResponse},
		{name: "fields in another order, whitespace after", body: " \n" + body("organizationId", "", "organizationId", `"`+seedOrg+`"`) + "\n\t ",
			wantStatus: 200, wantBody: seedResponse},
		{name: "minConfidence 0 is a value", body: body("minConfidence", "0"), wantStatus: 200, wantBody: success(2, 0, 0, 0, 0)},
		{name: "minConfidence 0.95 suppresses both", body: body("minConfidence", "0.95"), wantStatus: 200, wantBody: success(0, 0, 2, 0, 0)},
		{name: "minConfidence in exponent form", body: body("minConfidence", "6e-1"), wantStatus: 200, wantBody: success(2, 0, 0, 0, 0)},
		{name: "duplicate domains and pairs collapse", body: body("domains", `["restock","markdown","restock"]`,
			"perimeter", `[{"shopId":"shop-uuid-1","variantId":"variant-uuid-1"},{"variantId":"variant-uuid-2","shopId":"shop-uuid-2"},{"shopId":"shop-uuid-1","variantId":"variant-uuid-1"}]`),
			wantStatus: 200, wantBody: success(2, 0, 0, 0, 2)},
		{name: "empty perimeter", body: body("perimeter", `[]`), wantStatus: 200, wantBody: success(0, 0, 0, 0, 0), noStore: true},
		{name: "escaped replacement character and surrogate pair", body: body("perimeter", `[{"shopId":"\ud83d\ude00","variantId":"\ufffd"}]`),
			wantStatus: 200, wantBody: success(0, 0, 0, 0, 1)},
		{name: "escaped names and values", body: body("perimeter", `[{"shop\u0049d":"shop-uuid-\u0031","variantId":"variant-uuid-1"},{"shopId":"shop-uuid-2","variantId":"variant-uuid-2"}]`),
			wantStatus: 200, wantBody: seedResponse},

		// 400: body is not one JSON object
		{name: "empty body", body: "", wantStatus: 400, wantCode: invalid, wantFields: []string{" " + invalid}},
		{name: "whitespace body", body: " \n ", wantStatus: 400, wantCode: invalid, wantFields: []string{" " + invalid}},
		{name: "array body", body: `[]`, wantStatus: 400, wantCode: invalid, wantFields: []string{" " + invalid}},
		{name: "string body", body: `"x"`, wantStatus: 400, wantCode: invalid, wantFields: []string{" " + invalid}},
		{name: "number body", body: `5`, wantStatus: 400, wantCode: invalid, wantFields: []string{" " + invalid}},
		{name: "null body", body: `null`, wantStatus: 400, wantCode: invalid, wantFields: []string{" " + invalid}},
		{name: "invalid JSON", body: `{'organizationId':1}`, wantStatus: 400, wantCode: invalid, wantFields: []string{" " + invalid}},
		{name: "not JSON at all", body: `organizationId=1`, wantStatus: 400, wantCode: invalid, wantFields: []string{" " + invalid}},
		{name: "truncated after a key", body: `{"organizationId":`, wantStatus: 400, wantCode: invalid, wantFields: []string{"organizationId " + invalid}},
		{name: "truncated inside the perimeter", body: seedBody[:strings.Index(seedBody, `{"shopId":"shop-uuid-2"`)+12], wantStatus: 400, wantCode: invalid,
			wantFields: []string{"perimeter[1] " + invalid}},
		{name: "trailing garbage", body: seedBody + " x", wantStatus: 400, wantCode: invalid, wantFields: []string{" " + invalid}},
		{name: "two objects", body: seedBody + seedBody, wantStatus: 400, wantCode: invalid, wantFields: []string{" " + invalid}},

		// 400: missing and null fields
		{name: "empty object", body: `{}`, wantStatus: 400, wantCode: missing, wantFields: allMissing},
		{name: "all null", body: `{"organizationId":null,"workflowRunId":null,"domains":null,"minConfidence":null,"perimeter":null}`,
			wantStatus: 400, wantCode: missing, wantFields: allMissing},
		{name: "missing organizationId", body: body("organizationId", ""), wantStatus: 400, wantCode: missing, wantFields: []string{"organizationId " + missing}},
		{name: "missing workflowRunId", body: body("workflowRunId", ""), wantStatus: 400, wantCode: missing, wantFields: []string{"workflowRunId " + missing}},
		{name: "missing domains", body: body("domains", ""), wantStatus: 400, wantCode: missing, wantFields: []string{"domains " + missing}},
		{name: "missing minConfidence", body: body("minConfidence", ""), wantStatus: 400, wantCode: missing, wantFields: []string{"minConfidence " + missing}},
		{name: "missing perimeter", body: body("perimeter", ""), wantStatus: 400, wantCode: missing, wantFields: []string{"perimeter " + missing}},
		{name: "null minConfidence", body: body("minConfidence", "null"), wantStatus: 400, wantCode: missing, wantFields: []string{"minConfidence " + missing}},
		{name: "null organizationId", body: body("organizationId", "null"), wantStatus: 400, wantCode: missing, wantFields: []string{"organizationId " + missing}},
		{name: "empty organizationId", body: body("organizationId", `""`), wantStatus: 400, wantCode: missing, wantFields: []string{"organizationId " + missing}},
		{name: "blank workflowRunId", body: body("workflowRunId", `"  "`), wantStatus: 400, wantCode: missing, wantFields: []string{"workflowRunId " + missing}},
		{name: "pair without variantId", body: body("perimeter", `[{"shopId":"s"}]`), wantStatus: 400, wantCode: missing,
			wantFields: []string{"perimeter[0].variantId " + missing}},
		{name: "pair with null shopId", body: body("perimeter", `[{"shopId":"s","variantId":"v"},{"shopId":null,"variantId":"v"}]`), wantStatus: 400, wantCode: missing,
			wantFields: []string{"perimeter[1].shopId " + missing}},
		{name: "empty pair", body: body("perimeter", `[{}]`), wantStatus: 400, wantCode: missing,
			wantFields: []string{"perimeter[0].variantId " + missing, "perimeter[0].shopId " + missing}},
		{name: "empty shopId in the fourth pair", body: body("perimeter", `[{"shopId":"a","variantId":"v"},{"shopId":"b","variantId":"v"},{"shopId":"c","variantId":"v"},{"shopId":"","variantId":"v"}]`),
			wantStatus: 400, wantCode: missing, wantFields: []string{"perimeter[3].shopId " + missing}},

		// 400: wrong types
		{name: "organizationId is a number", body: body("organizationId", `42`), wantStatus: 400, wantCode: invalid, wantFields: []string{"organizationId " + invalid}},
		{name: "workflowRunId is an object", body: body("workflowRunId", `{"id":"x"}`), wantStatus: 400, wantCode: invalid, wantFields: []string{"workflowRunId " + invalid}},
		{name: "domains is a string", body: body("domains", `"restock"`), wantStatus: 400, wantCode: invalid, wantFields: []string{"domains " + invalid}},
		{name: "a domain is a number", body: body("domains", `["restock",7]`), wantStatus: 400, wantCode: invalid, wantFields: []string{"domains[1] " + invalid}},
		{name: "a domain is null", body: body("domains", `[null]`), wantStatus: 400, wantCode: invalid, wantFields: []string{"domains[0] " + invalid}},
		{name: "minConfidence is a string", body: body("minConfidence", `"0.6"`), wantStatus: 400, wantCode: invalid, wantFields: []string{"minConfidence " + invalid}},
		{name: "minConfidence is a boolean", body: body("minConfidence", `true`), wantStatus: 400, wantCode: invalid, wantFields: []string{"minConfidence " + invalid}},
		{name: "minConfidence overflows", body: body("minConfidence", `1e400`), wantStatus: 400, wantCode: invalid, wantFields: []string{"minConfidence " + invalid}},
		{name: "perimeter is an object", body: body("perimeter", `{"shopId":"s","variantId":"v"}`), wantStatus: 400, wantCode: invalid, wantFields: []string{"perimeter " + invalid}},
		{name: "a pair is a number", body: body("perimeter", `[{"shopId":"s","variantId":"v"},{"shopId":"t","variantId":"v"},5]`), wantStatus: 400, wantCode: invalid,
			wantFields: []string{"perimeter[2] " + invalid}},
		{name: "a pair is an array", body: body("perimeter", `[["s","v"]]`), wantStatus: 400, wantCode: invalid, wantFields: []string{"perimeter[0] " + invalid}},
		{name: "invalid UTF-8 in organizationId", body: body("organizationId", "\"org-\xff\""), wantStatus: 400, wantCode: invalid,
			wantFields: []string{"organizationId " + invalid}},
		{name: "lone surrogate in a shopId", body: body("perimeter", `[{"shopId":"s","variantId":"v"},{"shopId":"shop-\ud800","variantId":"v"}]`),
			wantStatus: 400, wantCode: invalid, wantFields: []string{"perimeter[1].shopId " + invalid}},
		{name: "a shopId is a number", body: body("perimeter", `[{"shopId":1,"variantId":"v"}]`), wantStatus: 400, wantCode: invalid,
			wantFields: []string{"perimeter[0].shopId " + invalid}},

		// 400: unknown and duplicate fields
		{name: "unknown top-level field", body: body("simulate", `true`), wantStatus: 400, wantCode: invalid, wantFields: []string{"simulate " + invalid}},
		{name: "dry run", body: body("dryRun", `true`), wantStatus: 200,
			wantBody: strings.Replace(success(2, 0, 0, 0, 0), "WORKFLOW_TASKS_CREATED", "WORKFLOW_TASKS_PREVIEWED", 1)},
		{name: "options false or null are absent", body: body("dryRun", `false`, "returnOutcomes", `null`, "retireStale", `false`), wantStatus: 200,
			wantBody: success(2, 0, 0, 0, 0)},
		{name: "retireStale asks for retired", body: body("retireStale", `true`), wantStatus: 200,
			wantBody: `{"success":true,"data":{"created":2,"updated":0,"suppressed":0,"skipped":0,"unmatched":0,"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"workflow-run-uuid-abc123","retired":0}}`},
		{name: "returnOutcomes in a dry run", body: body("returnOutcomes", `true`, "dryRun", `true`), wantStatus: 200,
			wantBody: `{"success":true,"data":{"created":2,"updated":0,"suppressed":0,"skipped":0,"unmatched":0,"successCode":"WORKFLOW_TASKS_PREVIEWED","workflowRunId":"workflow-run-uuid-abc123",` +
				`"outcomes":[{"domain":"restock","shopId":"shop-uuid-1","variantId":"variant-uuid-1","outcome":"created"},{"domain":"restock","shopId":"shop-uuid-2","variantId":"variant-uuid-2","outcome":"created"}]}}`},
		{name: "options of the wrong type", body: body("dryRun", `"yes"`, "returnOutcomes", `1`, "retireStale", `{}`), wantStatus: 400, wantCode: invalid,
			wantFields: []string{"dryRun " + invalid, "returnOutcomes " + invalid, "retireStale " + invalid}},
		{name: "duplicate option", body: strings.Replace(body("dryRun", `true`), "{", `{"dryRun":false,`, 1), wantStatus: 400, wantCode: invalid,
			wantFields: []string{"dryRun " + invalid}},
		{name: "field name in the wrong case", body: body("organizationId", "", "OrganizationId", `"`+seedOrg+`"`), wantStatus: 400, wantCode: invalid,
			wantFields: []string{"OrganizationId " + invalid, "organizationId " + missing}},
		{name: "unknown pair field", body: body("perimeter", `[{"shopId":"s","variantId":"v","shopID":"s"}]`), wantStatus: 400, wantCode: invalid,
			wantFields: []string{"perimeter[0].shopID " + invalid}},
		{name: "duplicate top-level field", body: strings.Replace(seedBody, "{", `{"organizationId":"a",`, 1), wantStatus: 400, wantCode: invalid,
			wantFields: []string{"organizationId " + invalid}},
		{name: "duplicate pair field", body: body("perimeter", `[{"shopId":"s","shopId":"t","variantId":"v"}]`), wantStatus: 400, wantCode: invalid,
			wantFields: []string{"perimeter[0].shopId " + invalid}},

		// 400: values the domain rejects
		{name: "minConfidence above 1", body: body("minConfidence", `1.5`), wantStatus: 400, wantCode: invalid, wantFields: []string{"minConfidence " + invalid}},
		{name: "minConfidence below 0", body: body("minConfidence", `-0.1`), wantStatus: 400, wantCode: invalid, wantFields: []string{"minConfidence " + invalid}},
		{name: "no domain", body: body("domains", `[]`), wantStatus: 400, wantCode: invalid, wantFields: []string{"domains " + invalid}},
		{name: "unknown domain", body: body("domains", `["restock","bogus"]`), wantStatus: 400, wantCode: invalid, wantFields: []string{"domains[1] " + invalid}},
		{name: "control character in an id", body: body("organizationId", `"org\u0001"`), wantStatus: 400, wantCode: invalid, wantFields: []string{"organizationId " + invalid}},
		{name: "id too long", body: body("workflowRunId", `"`+strings.Repeat("r", 256)+`"`), wantStatus: 400, wantCode: invalid, wantFields: []string{"workflowRunId " + invalid}},
		{name: "domain and structural problems are not mixed", body: `{"organizationId":"","minConfidence":"x","perimeter":[{"shopID":"s"}],"extra":1}`,
			wantStatus: 400, wantCode: invalid, wantFields: []string{"minConfidence " + invalid, "perimeter[0].shopID " + invalid,
				"perimeter[0].variantId " + missing, "perimeter[0].shopId " + missing, "extra " + invalid,
				"workflowRunId " + missing, "domains " + missing}},

		// 401: the body is never looked at
		{name: "no token", body: seedBody, header: map[string][]string{"Authorization": {}}, wantStatus: 401, wantCode: CodeUnauthorized},
		{name: "wrong token", body: seedBody, header: map[string][]string{"Authorization": {"Bearer not-the-token"}}, wantStatus: 401, wantCode: CodeUnauthorized},
		{name: "token prefix", body: seedBody, header: map[string][]string{"Authorization": {"Bearer " + testToken[:5]}}, wantStatus: 401, wantCode: CodeUnauthorized},
		{name: "token with extra", body: seedBody, header: map[string][]string{"Authorization": {"Bearer " + testToken + "x"}}, wantStatus: 401, wantCode: CodeUnauthorized},
		{name: "scheme only", body: seedBody, header: map[string][]string{"Authorization": {"Bearer"}}, wantStatus: 401, wantCode: CodeUnauthorized},
		{name: "scheme and space only", body: seedBody, header: map[string][]string{"Authorization": {"Bearer "}}, wantStatus: 401, wantCode: CodeUnauthorized},
		{name: "no scheme", body: seedBody, header: map[string][]string{"Authorization": {testToken}}, wantStatus: 401, wantCode: CodeUnauthorized},
		{name: "basic scheme", body: seedBody, header: map[string][]string{"Authorization": {"Basic " + testToken}}, wantStatus: 401, wantCode: CodeUnauthorized},
		{name: "two Authorization headers", body: seedBody, header: map[string][]string{"Authorization": {"Bearer " + testToken, "Bearer " + testToken}},
			wantStatus: 401, wantCode: CodeUnauthorized},
		{name: "no token and a bad body", body: `not json`, header: map[string][]string{"Authorization": {}}, wantStatus: 401, wantCode: CodeUnauthorized},

		// 405
		{name: "GET", method: http.MethodGet, wantStatus: 405, wantCode: CodeMethodNotAllowed},
		{name: "PUT", method: http.MethodPut, body: seedBody, wantStatus: 405, wantCode: CodeMethodNotAllowed},
		{name: "DELETE without a token", method: http.MethodDelete, header: map[string][]string{"Authorization": {}}, wantStatus: 405, wantCode: CodeMethodNotAllowed},

		// 413
		{name: "body over the limit, length known", body: seedBody, maxBody: int64(len(seedBody) - 1), wantStatus: 413, wantCode: CodePayloadTooLarge},
		{name: "body over the limit, chunked", body: seedBody, maxBody: int64(len(seedBody) - 1), chunked: true, wantStatus: 413, wantCode: CodePayloadTooLarge},
		{name: "body at the limit", body: seedBody, maxBody: int64(len(seedBody)), wantStatus: 200, wantBody: seedResponse},
		{name: "trailing whitespace over the limit", body: seedBody + strings.Repeat(" ", 100), maxBody: int64(len(seedBody) + 50), chunked: true,
			wantStatus: 413, wantCode: CodePayloadTooLarge},

		// 415
		{name: "no content type", body: seedBody, header: map[string][]string{"Content-Type": {}}, wantStatus: 415, wantCode: CodeUnsupportedMediaType},
		{name: "curl's default content type", body: seedBody, header: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}},
			wantStatus: 415, wantCode: CodeUnsupportedMediaType},
		{name: "text/plain", body: seedBody, header: map[string][]string{"Content-Type": {"text/plain"}}, wantStatus: 415, wantCode: CodeUnsupportedMediaType},
		{name: "another charset", body: seedBody, header: map[string][]string{"Content-Type": {"application/json; charset=latin1"}},
			wantStatus: 415, wantCode: CodeUnsupportedMediaType},
		{name: "json suffix type", body: seedBody, header: map[string][]string{"Content-Type": {"application/vnd.api+json"}},
			wantStatus: 415, wantCode: CodeUnsupportedMediaType},
		{name: "malformed content type", body: seedBody, header: map[string][]string{"Content-Type": {"application/json; charset"}},
			wantStatus: 415, wantCode: CodeUnsupportedMediaType},
		{name: "two Content-Type headers", body: seedBody, header: map[string][]string{"Content-Type": {"application/json", "application/json"}},
			wantStatus: 415, wantCode: CodeUnsupportedMediaType},
		{name: "two content types in one header", body: seedBody, header: map[string][]string{"Content-Type": {"application/json, text/plain"}},
			wantStatus: 415, wantCode: CodeUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newSeededStore(t)
			h, err := NewHandler(taskcreate.New(ts), Options{Token: testToken, MaxBodyBytes: tt.maxBody})
			require.NoError(t, err)

			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			r := httptest.NewRequest(method, Path, strings.NewReader(tt.body))
			setClientHeaders(r.Header, testToken)
			for name, values := range tt.header {
				r.Header[name] = values
				if len(values) == 0 {
					r.Header.Del(name)
				}
			}
			if tt.chunked {
				r.ContentLength = -1
				r.Body = io.NopCloser(strings.NewReader(tt.body)) // hides the length from the handler
			}
			w := serve(golden.wrap(t, h), r)

			// The same request to the endpoint assembled from the exported
			// pieces, on a store of its own, answers byte for byte alike.
			rebuilt := newSeededStore(t)
			r2 := httptest.NewRequest(method, Path, strings.NewReader(tt.body))
			r2.Header, r2.ContentLength = r.Header.Clone(), r.ContentLength
			if tt.chunked {
				r2.Body = io.NopCloser(strings.NewReader(tt.body))
			}
			w2 := serve(assembled(taskcreate.New(rebuilt), testToken, tt.maxBody), r2)
			assert.Equal(t, w.Code, w2.Code, "status of the assembled endpoint")
			assert.Equal(t, w.Body.String(), w2.Body.String(), "body of the assembled endpoint")
			assert.Equal(t, w.Header(), w2.Header(), "headers of the assembled endpoint")

			require.Equal(t, tt.wantStatus, w.Code, "body: %s", w.Body)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			wantCalls := int64(0)
			if tt.wantStatus == http.StatusOK && !tt.noStore {
				wantCalls = 1
			}
			assert.Equal(t, wantCalls, ts.calls.Load(), "store calls")

			if tt.wantStatus == http.StatusOK {
				assert.Equal(t, tt.wantBody, w.Body.String())
				return
			}
			resp := decodeResponse(t, w)
			assert.False(t, resp.Success)
			assert.Nil(t, resp.Data)
			assert.NotEmpty(t, resp.Error)
			assert.Equal(t, tt.wantCode, resp.ErrorCode)
			assert.Equal(t, tt.wantFields, responseFields(t, resp), "fieldErrors of %s", w.Body)
			switch tt.wantStatus {
			case http.StatusUnauthorized:
				assert.Equal(t, "Bearer", w.Header().Get("WWW-Authenticate"))
			case http.StatusMethodNotAllowed:
				assert.Equal(t, "POST", w.Header().Get("Allow"))
			}
			assert.Empty(t, w.Header().Get("Retry-After"))
		})
	}
}

// A request without the right token is answered without reading its body.
func TestHandlerUnauthorizedDoesNotReadBody(t *testing.T) {
	h, err := NewHandler(taskcreate.New(unmatchedStore), Options{Token: testToken})
	require.NoError(t, err)
	body := &readRecorder{r: strings.NewReader(seedBody)}
	w := serve(h, newRequest(Path, "wrong", body))
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.False(t, body.read, "the body was read")
}

func TestHandlerStoreFailures(t *testing.T) {
	// What a driver may put in an error: none of it may reach the client.
	leaky := errors.New(`sqlite: materialize: SQL logic error: no such column: tasks.secret_col (1) in "INSERT INTO tasks (id, organization_id) SELECT value->>0 FROM json_each(?1)"`)
	blockUntilDone := storeFunc(func(ctx context.Context, _ *store.Batch) (store.Outcome, error) {
		<-ctx.Done()
		return store.Outcome{}, fmt.Errorf("sqlite: interrupted (9): %w", ctx.Err())
	})
	tests := []struct {
		name       string
		ts         taskcreate.TaskStore
		timeout    time.Duration // Options.Timeout
		cancel     bool          // the request's context is cancelled before it is served
		wantStatus int
		wantCode   string
		retryAfter string // the Retry-After header, "" for none
	}{
		{name: "store error", ts: storeFunc(func(context.Context, *store.Batch) (store.Outcome, error) {
			return store.Outcome{}, leaky
		}), wantStatus: 500, wantCode: CodeDatabaseError},
		{name: "transient store error after every retry", ts: storeFunc(func(context.Context, *store.Batch) (store.Outcome, error) {
			return store.Outcome{}, store.MarkTransient(leaky)
		}), wantStatus: 503, wantCode: CodeStoreBusy, retryAfter: "1"},
		{name: "connection lost while committing", ts: storeFunc(func(context.Context, *store.Batch) (store.Outcome, error) {
			return store.Outcome{}, store.MarkOutcomeUnknown(leaky)
		}), wantStatus: 500, wantCode: CodeOutcomeUnknown},
		{name: "connection lost while committing a cancelled call", ts: storeFunc(func(context.Context, *store.Batch) (store.Outcome, error) {
			return store.Outcome{}, store.MarkOutcomeUnknown(fmt.Errorf("driver: %w", context.Canceled))
		}), wantStatus: 500, wantCode: CodeOutcomeUnknown},
		// The store committed before its account was found wrong.
		{name: "store miscounts", ts: storeFunc(func(context.Context, *store.Batch) (store.Outcome, error) {
			return store.Outcome{Created: 1}, nil
		}), wantStatus: 500, wantCode: CodeOutcomeUnknown},
		{name: "Options.Timeout passes", ts: blockUntilDone, timeout: 20 * time.Millisecond, wantStatus: 504, wantCode: CodeTimeout},
		{name: "request cancelled", ts: unmatchedStore, cancel: true, wantStatus: 503, wantCode: CodeRequestCancelled},
		{name: "store reports cancellation", ts: storeFunc(func(context.Context, *store.Batch) (store.Outcome, error) {
			return store.Outcome{}, fmt.Errorf("driver: %w", context.Canceled)
		}), wantStatus: 503, wantCode: CodeRequestCancelled},
		{name: "store reports a deadline", ts: storeFunc(func(context.Context, *store.Batch) (store.Outcome, error) {
			return store.Outcome{}, fmt.Errorf("driver: %w", context.DeadlineExceeded)
		}), wantStatus: 504, wantCode: CodeTimeout},
	}
	golden := recordExchanges(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := taskcreate.New(tt.ts, taskcreate.WithRetry(2, time.Millisecond))
			h, err := NewHandler(svc, Options{Token: testToken, Timeout: tt.timeout})
			require.NoError(t, err)
			h = golden.wrap(t, h)
			r := newRequest(Path, testToken, strings.NewReader(seedBody))
			if tt.cancel {
				ctx, cancel := context.WithCancel(r.Context())
				cancel()
				r = r.WithContext(ctx)
			}
			w := serve(h, r)

			require.Equal(t, tt.wantStatus, w.Code, "body: %s", w.Body)
			assert.Equal(t, tt.retryAfter, w.Header().Get("Retry-After"))
			resp := decodeResponse(t, w)
			assert.Equal(t, tt.wantCode, resp.ErrorCode)
			assert.Empty(t, resp.FieldErrors)
			if tt.wantCode == CodeOutcomeUnknown {
				// The one answer after which tasks may exist: it must not say otherwise.
				assert.NotContains(t, resp.Error, "no task was written")
				assert.Contains(t, resp.Error, "may have been written")
				assert.Contains(t, resp.Error, "repeating the same request is safe")
			} else {
				assert.Contains(t, resp.Error, "no task was written")
			}
			for _, leak := range []string{"sqlite", "SQL", "INSERT", "secret_col", "json_each", "driver", "interrupted", "context"} {
				assert.NotContains(t, w.Body.String(), leak)
			}
		})
	}
}

func TestNewHandlerOptions(t *testing.T) {
	svc := taskcreate.New(unmatchedStore)
	tests := []struct {
		name    string
		svc     *taskcreate.Service
		opts    Options
		wantErr string // "" for success
	}{
		{name: "token only", svc: svc, opts: Options{Token: testToken}},
		{name: "every option", svc: svc, opts: Options{Token: testToken, MaxBodyBytes: 1, Timeout: time.Second, MaxConcurrentCalls: 4,
			Logger: slog.New(slog.DiscardHandler)}},
		{name: "nil service", opts: Options{Token: testToken}, wantErr: "nil *taskcreate.Service"},
		{name: "empty token", svc: svc, opts: Options{}, wantErr: "Options.Token is empty"},
		{name: "blank token", svc: svc, opts: Options{Token: "  "}, wantErr: "Options.Token is empty"},
		{name: "token with a newline", svc: svc, opts: Options{Token: testToken + "\n"}, wantErr: "Options.Token contains spaces"},
		{name: "token with a space", svc: svc, opts: Options{Token: "a b"}, wantErr: "Options.Token contains spaces"},
		{name: "negative body limit", svc: svc, opts: Options{Token: testToken, MaxBodyBytes: -1}, wantErr: "Options.MaxBodyBytes"},
		{name: "negative timeout", svc: svc, opts: Options{Token: testToken, Timeout: -time.Second}, wantErr: "Options.Timeout"},
		{name: "negative concurrency bound", svc: svc, opts: Options{Token: testToken, MaxConcurrentCalls: -1}, wantErr: "Options.MaxConcurrentCalls"},
		{name: "negative in-flight bound", svc: svc, opts: Options{Token: testToken, MaxInFlightBytes: -1}, wantErr: "Options.MaxInFlightBytes is negative"},
		{name: "in-flight bound below the default body limit", svc: svc, opts: Options{Token: testToken, MaxInFlightBytes: DefaultMaxBodyBytes - 1},
			wantErr: "Options.MaxInFlightBytes"},
		{name: "in-flight bound below the body limit", svc: svc, opts: Options{Token: testToken, MaxBodyBytes: 10, MaxInFlightBytes: 9},
			wantErr: "could never be admitted"},
		{name: "in-flight bound at the body limit", svc: svc, opts: Options{Token: testToken, MaxBodyBytes: 10, MaxInFlightBytes: 10}},
		{name: "no in-flight bound", svc: svc, opts: Options{Token: testToken, MaxInFlightBytes: math.MaxInt64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHandler(tt.svc, tt.opts)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, h)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			assert.Nil(t, h)
			assert.True(t, strings.HasPrefix(err.Error(), "taskhttp: NewHandler: "), err.Error())
			if tt.opts.Token != "" {
				assert.NotContains(t, err.Error(), tt.opts.Token, "the error echoes the token")
			}
		})
	}
}

// WriteError is the one mapping from errors to responses; routers other
// than the handler rely on it.
func TestWriteError(t *testing.T) {
	fieldsErr := &taskcreate.ValidationError{Fields: []taskcreate.FieldError{
		{Field: "perimeter[3].shopId", Code: CodeMissingRequiredField, Message: "is required"},
		{Field: "minConfidence", Code: CodeMissingRequiredField, Message: "is required"},
	}}
	mixedErr := &taskcreate.ValidationError{Fields: []taskcreate.FieldError{
		{Field: "domains", Code: CodeMissingRequiredField, Message: "is required"},
		{Field: "domains[1]", Code: CodeValidationError, Message: "must be one of ..."},
	}}
	lostCommit := store.MarkOutcomeUnknown(errors.New("driver: bad connection"))
	busy := store.MarkTransient(errors.New("database is locked (5) (SQLITE_BUSY)"))
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		wantHeader map[string]string // every header of the list below that is set
		wantFields int
		wantError  string // the message, when it is fixed
	}{
		{"validation, all missing", fmt.Errorf("wrapped: %w", fieldsErr), 400, CodeMissingRequiredField, nil, 2,
			"invalid request: perimeter[3].shopId is required; minConfidence is required"},
		{"validation, mixed", mixedErr, 400, CodeValidationError, nil, 2, ""},
		{"bare ErrInvalidRequest", fmt.Errorf("x: %w", taskcreate.ErrInvalidRequest), 400, CodeValidationError, nil, 0, ""},
		{"unauthorized", ErrUnauthorized, 401, CodeUnauthorized, map[string]string{"WWW-Authenticate": "Bearer"}, 0, ""},
		{"not found", ErrNotFound, 404, CodeNotFound, nil, 0, ""},
		{"method", fmt.Errorf("router: %w", ErrMethodNotAllowed), 405, CodeMethodNotAllowed, map[string]string{"Allow": "POST"}, 0, ""},
		{"body read timed out", fmt.Errorf("%w: %w", ErrRequestTimeout, os.ErrDeadlineExceeded), 408, CodeRequestTimeout,
			map[string]string{"Connection": "close"}, 0, ""},
		{"too large", fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}), 413, CodePayloadTooLarge, nil, 0, "the request body is larger than 10 bytes"},
		{"media type", ErrUnsupportedMediaType, 415, CodeUnsupportedMediaType, nil, 0, ""},
		{"too many requests", ErrTooManyRequests, 429, CodeTooManyRequests, map[string]string{"Retry-After": "1"}, 0, ""},
		{"too many request bytes", fmt.Errorf("%w: 100 more request bytes do not fit", ErrTooManyRequests), 429, CodeTooManyRequests,
			map[string]string{"Retry-After": "1"}, 0, ""},
		{"store", errors.New("pq: duplicate key value violates unique constraint"), 500, CodeDatabaseError, nil, 0, msgDatabase},
		{"nil", nil, 500, CodeDatabaseError, nil, 0, msgDatabase},
		// A store's own network timeout is not the client's slow body.
		{"store network timeout", fmt.Errorf("store: %w", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}), 500, CodeDatabaseError, nil, 0, msgDatabase},
		{"outcome unknown", fmt.Errorf("taskcreate: %w", lostCommit), 500, CodeOutcomeUnknown, nil, 0, msgOutcomeUnknown},
		{"outcome unknown, also cancelled", store.MarkOutcomeUnknown(fmt.Errorf("commit: %w", context.Canceled)), 500, CodeOutcomeUnknown, nil, 0, msgOutcomeUnknown},
		{"outcome unknown, also past the deadline", fmt.Errorf("%w: %w", context.DeadlineExceeded, lostCommit), 500, CodeOutcomeUnknown, nil, 0, msgOutcomeUnknown},
		{"cancelled", fmt.Errorf("taskcreate: %w", context.Canceled), 503, CodeRequestCancelled, nil, 0, msgCancelled},
		{"cancelled while retrying a busy store", fmt.Errorf("taskcreate: %w: %w", context.Canceled, busy), 503, CodeRequestCancelled, nil, 0, msgCancelled},
		{"store busy after every retry", fmt.Errorf("taskcreate: giving up after 3 attempts: %w", busy), 503, CodeStoreBusy,
			map[string]string{"Retry-After": "1"}, 0, msgStoreBusy},
		{"deadline", fmt.Errorf("taskcreate: %w: %w", context.DeadlineExceeded, errors.New("driver: timeout")), 504, CodeTimeout, nil, 0, msgTimeout},
		{"deadline while retrying a busy store", fmt.Errorf("taskcreate: %w: %w", context.DeadlineExceeded, busy), 504, CodeTimeout, nil, 0, msgTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteError(w, tt.err)
			assert.Equal(t, tt.wantStatus, w.Code)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			for _, name := range []string{"WWW-Authenticate", "Allow", "Connection", "Retry-After"} {
				assert.Equal(t, tt.wantHeader[name], w.Header().Get(name), "header %s", name)
			}
			resp := decodeResponse(t, w)
			assert.False(t, resp.Success)
			assert.Equal(t, tt.wantCode, resp.ErrorCode)
			assert.Len(t, resp.FieldErrors, tt.wantFields)
			assert.NotEmpty(t, resp.Error)
			if tt.wantError != "" {
				assert.Equal(t, tt.wantError, resp.Error)
			}
			assert.NotContains(t, resp.Error, "driver")
			assert.NotContains(t, resp.Error, "SQLITE")
		})
	}
}

// Beyond Options.MaxConcurrentCalls a request is refused at once, without
// its body being read, and the slot comes back when the call returns.
func TestHandlerMaxConcurrentCalls(t *testing.T) {
	ts, entered, release := blockingStore()
	h, err := NewHandler(taskcreate.New(ts), Options{Token: testToken, MaxConcurrentCalls: 1})
	require.NoError(t, err)
	h = recordExchanges(t).wrap(t, h)

	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- post(h, strings.NewReader(seedBody), len(seedBody)) }()
	<-entered // the first call holds the only slot

	body := &readRecorder{r: strings.NewReader(seedBody)}
	w := post(h, body, -1)
	assertTooManyRequests(t, w)
	assert.False(t, body.read, "the body of a refused request was read")

	// Requests refused before the body is read take no slot.
	w = serve(h, httptest.NewRequest(http.MethodPost, Path, strings.NewReader(seedBody)))
	assert.Equal(t, http.StatusUnauthorized, w.Code)

	release <- struct{}{}
	assert.Equal(t, http.StatusOK, (<-first).Code)

	// The slot is back: the next call goes through.
	go func() { <-entered; release <- struct{}{} }()
	w = post(h, strings.NewReader(seedBody), len(seedBody))
	assert.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body)
}

// A body that stops arriving is answered 408 and the connection is closed.
func TestHandlerRequestTimeout(t *testing.T) {
	ts := &countingStore{TaskStore: unmatchedStore}
	h, err := NewHandler(taskcreate.New(ts), Options{Token: testToken})
	require.NoError(t, err)
	h = recordExchanges(t).wrap(t, h)
	w := serve(h, newRequest(Path, testToken, &timeoutReader{text: seedBody[:40], err: os.ErrDeadlineExceeded}))

	require.Equal(t, http.StatusRequestTimeout, w.Code, "body: %s", w.Body)
	assert.Equal(t, "close", w.Header().Get("Connection"))
	resp := decodeResponse(t, w)
	assert.False(t, resp.Success)
	assert.Equal(t, CodeRequestTimeout, resp.ErrorCode)
	assert.Empty(t, resp.FieldErrors)
	assert.Zero(t, ts.calls.Load())
}

func TestWriteResult(t *testing.T) {
	res := taskcreate.Result{WorkflowRunID: "run-1", SuccessCode: taskcreate.SuccessCodeTasksCreated,
		Created: 1, Updated: 2, Suppressed: 3, Skipped: 4, Unmatched: 5}
	counts := `"created":1,"updated":2,"suppressed":3,"skipped":4,"unmatched":5`
	for _, tt := range []struct {
		name string
		req  taskcreate.Request
		want string
	}{
		{"plain", taskcreate.Request{}, `{"success":true,"data":{` + counts + `,"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"run-1"}}`},
		{"retireStale retiring nothing", taskcreate.Request{RetireStale: true},
			`{"success":true,"data":{` + counts + `,"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"run-1","retired":0}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteResult(w, tt.req, res)
			assert.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.Equal(t, tt.want, w.Body.String())
		})
	}
}

// assembled is the task-create endpoint built from the exported pieces, as
// a framework user would: it must answer as NewHandler does.
func assembled(svc *taskcreate.Service, token string, maxBody int64) http.Handler {
	if maxBody == 0 {
		maxBody = DefaultMaxBodyBytes
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			if r.Method != http.MethodPost {
				return ErrMethodNotAllowed
			}
			if err := Authorize(r.Header, token); err != nil {
				return err
			}
			if err := CheckContentType(r.Header); err != nil {
				return err
			}
			req, err := DecodeRequestWithLimits(http.MaxBytesReader(w, r.Body, maxBody), svc.Limits())
			if err != nil {
				return err
			}
			res, err := svc.CreateTasks(r.Context(), req)
			if err != nil {
				return err
			}
			WriteResult(w, req, res)
			return nil
		}()
		if err != nil {
			WriteError(w, err)
		}
	})
}

// The status and errorCode ErrorStatus gives are those WriteError answers.
func TestErrorStatus(t *testing.T) {
	for _, err := range []error{ErrUnauthorized, ErrMethodNotAllowed, ErrUnsupportedMediaType, ErrTooManyRequests, ErrNotFound,
		taskcreate.ErrOutcomeUnknown, &taskcreate.RetireBudgetError{}, errors.New("boom")} {
		w := httptest.NewRecorder()
		WriteError(w, err)
		resp := decodeResponse(t, w)
		status, code := ErrorStatus(err)
		assert.Equal(t, w.Code, status, "%v", err)
		assert.Equal(t, resp.ErrorCode, code, "%v", err)
	}
}

// Each request is one log line with its outcome; the token never appears.
func TestHandlerLogging(t *testing.T) {
	var logs bytes.Buffer
	ts := newSeededStore(t)
	failing := storeFunc(func(context.Context, *store.Batch) (store.Outcome, error) {
		return store.Outcome{}, errors.New("disk I/O error")
	})
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	ok, err := NewHandler(taskcreate.New(ts), Options{Token: testToken, Logger: logger})
	require.NoError(t, err)
	broken, err := NewHandler(taskcreate.New(failing), Options{Token: testToken, Logger: logger})
	require.NoError(t, err)

	send := func(h http.Handler, token, body string) { serve(h, newRequest(Path, token, strings.NewReader(body))) }
	send(ok, testToken, seedBody)
	send(ok, testToken, body("minConfidence", `"high"`))
	send(ok, "wrong-"+testToken, seedBody)
	send(broken, testToken, seedBody)

	assert.NotContains(t, logs.String(), testToken)
	assert.NotContains(t, logs.String(), "Bearer")
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 4, "one line per request:\n%s", logs.String())
	var entries []map[string]any
	for _, line := range lines {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		assert.Contains(t, e, "duration")
		entries = append(entries, e)
	}

	assert.Equal(t, "INFO", entries[0]["level"])
	assert.EqualValues(t, 200, entries[0]["status"])
	assert.Equal(t, seedOrg, entries[0]["organizationId"])
	assert.Equal(t, seedRun, entries[0]["workflowRunId"])
	assert.EqualValues(t, 2, entries[0]["created"])
	for _, key := range []string{"updated", "suppressed", "skipped", "unmatched"} {
		assert.EqualValues(t, 0, entries[0][key], key)
	}
	assert.NotContains(t, entries[0], "errorCode")

	assert.Equal(t, "WARN", entries[1]["level"])
	assert.EqualValues(t, 400, entries[1]["status"])
	assert.Equal(t, CodeValidationError, entries[1]["errorCode"])
	assert.Equal(t, seedOrg, entries[1]["organizationId"], "a rejected request still names its organization")

	assert.Equal(t, "WARN", entries[2]["level"])
	assert.Equal(t, CodeUnauthorized, entries[2]["errorCode"])
	assert.NotContains(t, entries[2], "organizationId", "an unauthenticated body is not read")

	assert.Equal(t, "ERROR", entries[3]["level"])
	assert.EqualValues(t, 500, entries[3]["status"])
	assert.Equal(t, CodeDatabaseError, entries[3]["errorCode"])
	assert.Contains(t, entries[3]["error"], "disk I/O error", "the store's own words stay in the log")
}

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
		serve(h, newRequest(Path, testToken, strings.NewReader(c.body)).WithContext(ctx))
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

// The in-flight bound defaults to DefaultMaxInFlightBytes, raised to the
// body limit so that the largest body accepted can be admitted.
func TestNewHandlerInFlightDefault(t *testing.T) {
	svc := taskcreate.New(unmatchedStore)
	for _, tt := range []struct{ maxBody, maxInFlight, want int64 }{
		{0, 0, DefaultMaxInFlightBytes},
		{1 << 30, 0, 1 << 30},
		{1 << 20, 0, DefaultMaxInFlightBytes},
		{1 << 20, 2 << 20, 2 << 20},
	} {
		h, err := NewHandler(svc, Options{Token: testToken, MaxBodyBytes: tt.maxBody, MaxInFlightBytes: tt.maxInFlight})
		require.NoError(t, err)
		assert.Equal(t, tt.want, h.(*handler).inFlight.max, "MaxBodyBytes %d, MaxInFlightBytes %d", tt.maxBody, tt.maxInFlight)
	}
}
