package taskhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		{name: "a shopId is a number", body: body("perimeter", `[{"shopId":1,"variantId":"v"}]`), wantStatus: 400, wantCode: invalid,
			wantFields: []string{"perimeter[0].shopId " + invalid}},

		// 400: unknown and duplicate fields
		{name: "unknown top-level field", body: body("dryRun", `true`), wantStatus: 400, wantCode: invalid, wantFields: []string{"dryRun " + invalid}},
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newSeededStore(t)
			h, err := NewHandler(taskcreate.New(store), Options{Token: testToken, MaxBodyBytes: tt.maxBody})
			require.NoError(t, err)

			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			r := httptest.NewRequest(method, Path, strings.NewReader(tt.body))
			r.Header.Set("Authorization", "Bearer "+testToken)
			r.Header.Set("Content-Type", "application/json")
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
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			require.Equal(t, tt.wantStatus, w.Code, "body: %s", w.Body)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			wantCalls := int64(0)
			if tt.wantStatus == http.StatusOK && !tt.noStore {
				wantCalls = 1
			}
			assert.Equal(t, wantCalls, store.calls.Load(), "store calls")

			if tt.wantStatus == http.StatusOK {
				assert.Equal(t, tt.wantBody, w.Body.String())
				return
			}
			var resp Response
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp), "body: %s", w.Body)
			assert.False(t, resp.Success)
			assert.Nil(t, resp.Data)
			assert.NotEmpty(t, resp.Error)
			assert.Equal(t, tt.wantCode, resp.ErrorCode)
			var fields []string
			for _, f := range resp.FieldErrors {
				fields = append(fields, f.Field+" "+f.Code)
				assert.NotEmpty(t, f.Message, "message of %s", f.Field)
			}
			assert.Equal(t, tt.wantFields, fields, "fieldErrors of %s", w.Body)
			switch tt.wantStatus {
			case http.StatusUnauthorized:
				assert.Equal(t, "Bearer", w.Header().Get("WWW-Authenticate"))
			case http.StatusMethodNotAllowed:
				assert.Equal(t, "POST", w.Header().Get("Allow"))
			}
		})
	}
}

// A request without the right token is answered without reading its body.
func TestHandlerUnauthorizedDoesNotReadBody(t *testing.T) {
	h, err := NewHandler(taskcreate.New(unmatchedStore), Options{Token: testToken})
	require.NoError(t, err)
	body := &readRecorder{r: strings.NewReader(seedBody)}
	r := httptest.NewRequest(http.MethodPost, Path, body)
	r.Header.Set("Authorization", "Bearer wrong")
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.False(t, body.read, "the body was read")
}

type readRecorder struct {
	r    io.Reader
	read bool
}

func (b *readRecorder) Read(p []byte) (int, error) {
	b.read = true
	return b.r.Read(p)
}

func TestHandlerStoreFailures(t *testing.T) {
	// What a driver may put in an error: none of it may reach the client.
	leaky := errors.New(`sqlite: materialize: SQL logic error: no such column: tasks.secret_col (1) in "INSERT INTO tasks (id, organization_id) SELECT value->>0 FROM json_each(?1)"`)
	blockUntilDone := storeFunc(func(ctx context.Context, _ *taskcreate.Batch) (taskcreate.Outcome, error) {
		<-ctx.Done()
		return taskcreate.Outcome{}, fmt.Errorf("sqlite: interrupted (9): %w", ctx.Err())
	})
	tests := []struct {
		name       string
		store      taskcreate.TaskStore
		timeout    time.Duration // Options.Timeout
		cancel     bool          // the request's context is cancelled before it is served
		wantStatus int
		wantCode   string
	}{
		{name: "store error", store: storeFunc(func(context.Context, *taskcreate.Batch) (taskcreate.Outcome, error) {
			return taskcreate.Outcome{}, leaky
		}), wantStatus: 500, wantCode: CodeDatabaseError},
		{name: "transient store error after every retry", store: storeFunc(func(context.Context, *taskcreate.Batch) (taskcreate.Outcome, error) {
			return taskcreate.Outcome{}, taskcreate.MarkTransient(leaky)
		}), wantStatus: 500, wantCode: CodeDatabaseError},
		{name: "store miscounts", store: storeFunc(func(context.Context, *taskcreate.Batch) (taskcreate.Outcome, error) {
			return taskcreate.Outcome{Created: 1}, nil
		}), wantStatus: 500, wantCode: CodeDatabaseError},
		{name: "Options.Timeout passes", store: blockUntilDone, timeout: 20 * time.Millisecond, wantStatus: 504, wantCode: CodeTimeout},
		{name: "request cancelled", store: unmatchedStore, cancel: true, wantStatus: 503, wantCode: CodeRequestCancelled},
		{name: "store reports cancellation", store: storeFunc(func(context.Context, *taskcreate.Batch) (taskcreate.Outcome, error) {
			return taskcreate.Outcome{}, fmt.Errorf("driver: %w", context.Canceled)
		}), wantStatus: 503, wantCode: CodeRequestCancelled},
		{name: "store reports a deadline", store: storeFunc(func(context.Context, *taskcreate.Batch) (taskcreate.Outcome, error) {
			return taskcreate.Outcome{}, fmt.Errorf("driver: %w", context.DeadlineExceeded)
		}), wantStatus: 504, wantCode: CodeTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := taskcreate.New(tt.store, taskcreate.WithRetry(2, time.Millisecond))
			h, err := NewHandler(svc, Options{Token: testToken, Timeout: tt.timeout})
			require.NoError(t, err)
			r := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(seedBody))
			r.Header.Set("Authorization", "Bearer "+testToken)
			r.Header.Set("Content-Type", "application/json")
			if tt.cancel {
				ctx, cancel := context.WithCancel(r.Context())
				cancel()
				r = r.WithContext(ctx)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			require.Equal(t, tt.wantStatus, w.Code, "body: %s", w.Body)
			var resp Response
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
			assert.Equal(t, tt.wantCode, resp.ErrorCode)
			assert.Empty(t, resp.FieldErrors)
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
		{name: "every option", svc: svc, opts: Options{Token: testToken, MaxBodyBytes: 1, Timeout: time.Second, Logger: slog.New(slog.DiscardHandler)}},
		{name: "nil service", opts: Options{Token: testToken}, wantErr: "nil *taskcreate.Service"},
		{name: "empty token", svc: svc, opts: Options{}, wantErr: "Options.Token is empty"},
		{name: "blank token", svc: svc, opts: Options{Token: "  "}, wantErr: "Options.Token is empty"},
		{name: "token with a newline", svc: svc, opts: Options{Token: testToken + "\n"}, wantErr: "Options.Token contains spaces"},
		{name: "token with a space", svc: svc, opts: Options{Token: "a b"}, wantErr: "Options.Token contains spaces"},
		{name: "negative body limit", svc: svc, opts: Options{Token: testToken, MaxBodyBytes: -1}, wantErr: "Options.MaxBodyBytes"},
		{name: "negative timeout", svc: svc, opts: Options{Token: testToken, Timeout: -time.Second}, wantErr: "Options.Timeout"},
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
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		wantHeader [2]string
		wantFields int
	}{
		{"validation, all missing", fmt.Errorf("wrapped: %w", fieldsErr), 400, CodeMissingRequiredField, [2]string{}, 2},
		{"validation, mixed", mixedErr, 400, CodeValidationError, [2]string{}, 2},
		{"bare ErrInvalidRequest", fmt.Errorf("x: %w", taskcreate.ErrInvalidRequest), 400, CodeValidationError, [2]string{}, 0},
		{"unauthorized", ErrUnauthorized, 401, CodeUnauthorized, [2]string{"WWW-Authenticate", "Bearer"}, 0},
		{"method", fmt.Errorf("router: %w", ErrMethodNotAllowed), 405, CodeMethodNotAllowed, [2]string{"Allow", "POST"}, 0},
		{"too large", fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}), 413, CodePayloadTooLarge, [2]string{}, 0},
		{"media type", ErrUnsupportedMediaType, 415, CodeUnsupportedMediaType, [2]string{}, 0},
		{"store", errors.New("pq: duplicate key value violates unique constraint"), 500, CodeDatabaseError, [2]string{}, 0},
		{"nil", nil, 500, CodeDatabaseError, [2]string{}, 0},
		{"cancelled", fmt.Errorf("taskcreate: %w", context.Canceled), 503, CodeRequestCancelled, [2]string{}, 0},
		{"deadline", fmt.Errorf("taskcreate: %w: %w", context.DeadlineExceeded, errors.New("driver: timeout")), 504, CodeTimeout, [2]string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteError(w, tt.err)
			assert.Equal(t, tt.wantStatus, w.Code)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			if tt.wantHeader[0] != "" {
				assert.Equal(t, tt.wantHeader[1], w.Header().Get(tt.wantHeader[0]))
			}
			var resp Response
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
			assert.False(t, resp.Success)
			assert.Equal(t, tt.wantCode, resp.ErrorCode)
			assert.Len(t, resp.FieldErrors, tt.wantFields)
			assert.NotEmpty(t, resp.Error)
			if tt.wantStatus == http.StatusInternalServerError {
				assert.Equal(t, msgDatabase, resp.Error)
			}
		})
	}
}

func TestWriteResult(t *testing.T) {
	w := httptest.NewRecorder()
	WriteResult(w, taskcreate.Result{WorkflowRunID: "run-1", SuccessCode: taskcreate.SuccessCodeTasksCreated,
		Created: 1, Updated: 2, Suppressed: 3, Skipped: 4, Unmatched: 5})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	assert.Equal(t, `{"success":true,"data":{"created":1,"updated":2,"suppressed":3,"skipped":4,"unmatched":5,"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"run-1"}}`,
		w.Body.String())
}

// Each request is one log line with its outcome; the token never appears.
func TestHandlerLogging(t *testing.T) {
	var logs bytes.Buffer
	store := newSeededStore(t)
	failing := storeFunc(func(context.Context, *taskcreate.Batch) (taskcreate.Outcome, error) {
		return taskcreate.Outcome{}, errors.New("disk I/O error")
	})
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	ok, err := NewHandler(taskcreate.New(store), Options{Token: testToken, Logger: logger})
	require.NoError(t, err)
	broken, err := NewHandler(taskcreate.New(failing), Options{Token: testToken, Logger: logger})
	require.NoError(t, err)

	send := func(h http.Handler, token, body string) {
		r := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
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
