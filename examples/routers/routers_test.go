package routers_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/examples/routers"
	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
	"github.com/actionvector/tasks/taskcreate/taskhttp"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode) // no debug lines on stdout
	m.Run()
}

const (
	token        = "routers-token"
	maxBodyBytes = 1024
	org          = "550e8400-e29b-41d4-a716-446655440001"
	run          = "workflow-run-uuid-abc123"
	// referenceBody is the endpoint's reference request, as in taskhttp's Example.
	referenceBody = `{"domains":["restock"],"minConfidence":0.6,"organizationId":"` + org + `",` +
		`"perimeter":[{"shopId":"shop-uuid-1","variantId":"variant-uuid-1"},{"shopId":"shop-uuid-2","variantId":"variant-uuid-2"}],` +
		`"workflowRunId":"` + run + `"}`
	referenceResponse = `{"success":true,"data":{"created":2,"updated":0,"suppressed":0,"skipped":0,"unmatched":0,` +
		`"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"` + run + `"}}`
	sweepBody     = `{"organizationId":"` + org + `","workflowRunId":"` + run + `"}`
	sweepResponse = `{"success":true,"data":{"dismissed":2,"successCode":"WORKFLOW_TASKS_SWEPT","workflowRunId":"` + run + `"}}`
)

// router is one of the four routers with both endpoints mounted.
type router struct {
	name string
	new  func(create, sweep http.Handler) http.Handler
	// allow is the Allow header of its 405 on the endpoints.
	allow string
}

var allRouters = []router{
	{"servemux", func(c, s http.Handler) http.Handler { return routers.MountServeMux(http.NewServeMux(), c, s) }, "POST"},
	{"chi", func(c, s http.Handler) http.Handler { return routers.MountChi(chi.NewRouter(), c, s) }, "POST"},
	{"gin", func(c, s http.Handler) http.Handler { return routers.MountGin(gin.New(), c, s) }, "POST"},
	// echo answers OPTIONS itself (204) and lists it.
	{"echo", func(c, s http.Handler) http.Handler { return routers.MountEcho(echo.New(), c, s) }, "OPTIONS, POST"},
}

// routerCase is one request and what every router must answer it with.
type routerCase struct {
	name        string
	method      string
	path        string
	auth        string // the Authorization header, if any
	contentType string // the Content-Type header, if any
	body        string
	chunked     bool // send the body without a Content-Length

	status int
	code   string   // the envelope's errorCode; "" on success
	fields []string // the fieldErrors, "field code"
	want   string   // the whole body, on success
}

// The cases run in order on one store per router: the sweep dismisses what
// the reference request created.
var cases = func() []routerCase {
	bearer, ctJSON := "Bearer "+token, "application/json"
	const (
		missing = taskhttp.CodeMissingRequiredField
		path    = taskhttp.Path
	)
	tooLarge := `{"organizationId":"` + org + `","workflowRunId":"` + strings.Repeat("r", 2*maxBodyBytes) + `"}`
	return []routerCase{
		{name: "reference", method: "POST", path: path, auth: bearer, contentType: ctJSON, body: referenceBody,
			status: 200, want: referenceResponse},
		{name: "no token", method: "POST", path: path, contentType: ctJSON, body: referenceBody,
			status: 401, code: taskhttp.CodeUnauthorized},
		{name: "wrong token", method: "POST", path: path, auth: "Bearer wrong", contentType: ctJSON, body: referenceBody,
			status: 401, code: taskhttp.CodeUnauthorized},
		{name: "GET", method: "GET", path: path,
			status: 405, code: taskhttp.CodeMethodNotAllowed},
		{name: "PUT with token", method: "PUT", path: path, auth: bearer, contentType: ctJSON, body: referenceBody,
			status: 405, code: taskhttp.CodeMethodNotAllowed},
		{name: "unknown method", method: "FROB", path: path,
			status: 405, code: taskhttp.CodeMethodNotAllowed},
		{name: "GET sweep", method: "GET", path: taskhttp.SweepPath,
			status: 405, code: taskhttp.CodeMethodNotAllowed},
		{name: "unknown path", method: "POST", path: "/api/data-platform/workflow-actions/task-delete", auth: bearer, contentType: ctJSON, body: referenceBody,
			status: 404, code: taskhttp.CodeNotFound},
		{name: "GET root", method: "GET", path: "/",
			status: 404, code: taskhttp.CodeNotFound},
		{name: "unknown method and path", method: "FROB", path: "/nowhere",
			status: 404, code: taskhttp.CodeNotFound},
		{name: "too large", method: "POST", path: path, auth: bearer, contentType: ctJSON, body: tooLarge,
			status: 413, code: taskhttp.CodePayloadTooLarge},
		{name: "too large chunked", method: "POST", path: path, auth: bearer, contentType: ctJSON, body: tooLarge, chunked: true,
			status: 413, code: taskhttp.CodePayloadTooLarge},
		{name: "text/plain", method: "POST", path: path, auth: bearer, contentType: "text/plain", body: referenceBody,
			status: 415, code: taskhttp.CodeUnsupportedMediaType},
		{name: "missing fields", method: "POST", path: path, auth: bearer, contentType: ctJSON,
			body:   strings.NewReplacer(`,"workflowRunId":"`+run+`"`, "", `"shopId":"shop-uuid-2",`, "").Replace(referenceBody),
			status: 400, code: missing, fields: []string{"perimeter[1].shopId " + missing, "workflowRunId " + missing}},
		{name: "sweep", method: "POST", path: taskhttp.SweepPath, auth: bearer, contentType: ctJSON, body: sweepBody,
			status: 200, want: sweepResponse},
	}
}()

func TestRouters(t *testing.T) {
	// bodies[c][r] is the body router r answered case c with.
	bodies := make([][]string, len(cases))
	for i := range bodies {
		bodies[i] = make([]string, len(allRouters))
	}
	for ri, rt := range allRouters {
		t.Run(rt.name, func(t *testing.T) {
			h := rt.new(newHandlers(t))
			for ci, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					w := serve(h, tc)
					bodies[ci][ri] = w.Body.String()
					checkAnswer(t, tc, rt, w)
				})
			}
		})
	}
	for ci, tc := range cases {
		t.Run("same bytes/"+tc.name, func(t *testing.T) {
			for ri, rt := range allRouters[1:] {
				assert.Equal(t, bodies[ci][0], bodies[ci][ri+1], "%s and %s differ", allRouters[0].name, rt.name)
			}
		})
	}
}

// checkAnswer checks that w, the answer of rt to tc, is the envelope tc wants.
func checkAnswer(t *testing.T, tc routerCase, rt router, w *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, tc.status, w.Code, "body: %s", w.Body)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	switch tc.status {
	case http.StatusUnauthorized:
		assert.Equal(t, "Bearer", w.Header().Get("WWW-Authenticate"))
	case http.StatusMethodNotAllowed:
		assert.Equal(t, []string{rt.allow}, w.Header().Values("Allow"))
	}
	if tc.path == taskhttp.SweepPath && tc.status == http.StatusOK {
		var resp taskhttp.SweepResponse
		decodeStrict(t, w.Body.Bytes(), &resp)
		assert.True(t, resp.Success)
		require.NotNil(t, resp.Data)
		assert.Equal(t, 2, resp.Data.Dismissed)
		assert.Equal(t, tc.want, w.Body.String())
		return
	}
	var resp taskhttp.Response
	decodeStrict(t, w.Body.Bytes(), &resp)
	if tc.status == http.StatusOK {
		assert.True(t, resp.Success)
		require.NotNil(t, resp.Data)
		assert.Equal(t, 2, resp.Data.Created)
		assert.Equal(t, tc.want, w.Body.String())
		return
	}
	assert.False(t, resp.Success)
	assert.Nil(t, resp.Data)
	assert.NotEmpty(t, resp.Error)
	assert.Equal(t, tc.code, resp.ErrorCode)
	var fields []string
	for _, f := range resp.FieldErrors {
		fields = append(fields, f.Field+" "+f.Code)
	}
	assert.ElementsMatch(t, tc.fields, fields)
}

// TestOtherRoutes checks the router-wide 404 and 405 on a route of the
// application's own, GET /other: a 405 lists its methods, not the
// endpoints'.
func TestOtherRoutes(t *testing.T) {
	other := func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("other")) }
	tests := []struct {
		name   string
		new    func(create, sweep http.Handler) http.Handler
		status int    // of PUT /other
		allow  string // of its 405
	}{
		{"servemux", func(create, sweep http.Handler) http.Handler {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /other", other)
			routers.MountServeMux(mux, create, sweep)
			return mux
		}, 404, ""}, // "/" matches PUT /other: see MountServeMux
		{"chi", func(create, sweep http.Handler) http.Handler {
			r := chi.NewRouter()
			r.Get("/other", other)
			routers.MountChi(r, create, sweep)
			return r
		}, 405, "GET"},
		{"gin", func(create, sweep http.Handler) http.Handler {
			engine := gin.New()
			engine.GET("/other", gin.WrapF(other))
			routers.MountGin(engine, create, sweep)
			return engine
		}, 405, "GET"},
		{"echo", func(create, sweep http.Handler) http.Handler {
			e := echo.New()
			e.GET("/other", echo.WrapHandler(http.HandlerFunc(other)))
			e.GET("/teapot", func(echo.Context) error { return echo.NewHTTPError(http.StatusTeapot, "short and stout") })
			routers.MountEcho(e, create, sweep)
			return e
		}, 405, "OPTIONS, GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.new(newHandlers(t))
			w := serve(h, routerCase{method: "GET", path: "/other"})
			assert.Equal(t, 200, w.Code)
			assert.Equal(t, "other", w.Body.String())

			w = serve(h, routerCase{method: "PUT", path: "/other"})
			require.Equal(t, tt.status, w.Code, "body: %s", w.Body)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			var resp taskhttp.Response
			decodeStrict(t, w.Body.Bytes(), &resp)
			if tt.status == http.StatusMethodNotAllowed {
				assert.Equal(t, taskhttp.CodeMethodNotAllowed, resp.ErrorCode)
				assert.Equal(t, []string{tt.allow}, w.Header().Values("Allow"))
			} else {
				assert.Equal(t, taskhttp.CodeNotFound, resp.ErrorCode)
			}

			if tt.name == "echo" { // other errors are left to echo's own handler
				w = serve(h, routerCase{method: "GET", path: "/teapot"})
				assert.Equal(t, http.StatusTeapot, w.Code)
				assert.JSONEq(t, `{"message":"short and stout"}`, w.Body.String())
			}
		})
	}
}

// newHandlers returns the two handlers on a fresh in-memory store holding
// the reference recommendations.
func newHandlers(t *testing.T) (create, sweep http.Handler) {
	t.Helper()
	store, err := sqlite.Open(t.Context(), ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, store.Close()) })
	require.NoError(t, store.PutActionVectors(t.Context(), recommendations()))
	svc := taskcreate.New(store)
	opts := taskhttp.Options{Token: token, MaxBodyBytes: maxBodyBytes}
	create, err = taskhttp.NewHandler(svc, opts)
	require.NoError(t, err)
	sweep, err = taskhttp.NewSweepHandler(svc, opts)
	require.NoError(t, err)
	return create, sweep
}

// serve sends tc's request to h.
func serve(h http.Handler, tc routerCase) *httptest.ResponseRecorder {
	r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
	if tc.chunked {
		r.ContentLength = -1
	}
	if tc.auth != "" {
		r.Header.Set("Authorization", tc.auth)
	}
	if tc.contentType != "" {
		r.Header.Set("Content-Type", tc.contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// decodeStrict decodes one JSON value of v's type, and nothing else, from
// data.
func decodeStrict(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), "body: %s", data)
	require.False(t, dec.More(), "data after the envelope: %s", data)
}

// recommendations are the latest restock recommendations for the two pairs
// of the reference request, as in taskhttp's Example.
func recommendations() []taskcreate.ActionVector {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	qty1, qty2, conf1, conf2 := 24, 10, 0.91, 0.78
	return []taskcreate.ActionVector{
		{OrganizationID: org, VariantID: "variant-uuid-1", ShopID: "shop-uuid-1",
			SnapshotDate: day, Domain: taskcreate.Restock, RecommendedQty: &qty1, Confidence: &conf1,
			Snapshot: json.RawMessage(`{"daysOfCover":1.5}`)},
		{OrganizationID: org, VariantID: "variant-uuid-2", ShopID: "shop-uuid-2",
			SnapshotDate: day, Domain: taskcreate.Restock, RecommendedQty: &qty2, Confidence: &conf2,
			Snapshot: json.RawMessage(`{"daysOfCover":3}`)},
	}
}
