package taskhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// The bounds a request meets: the size of what it asks for (the limits of
// the service, applied as the body is read), the bytes of the requests in
// flight at once, and the share of open tasks a call may retire.

// permutations calls f with every order of fields.
func permutations(fields [][2]string, f func([][2]string)) {
	var walk func(k int)
	walk = func(k int) {
		if k == len(fields) {
			f(fields)
			return
		}
		for i := k; i < len(fields); i++ {
			fields[k], fields[i] = fields[i], fields[k]
			walk(k + 1)
			fields[k], fields[i] = fields[i], fields[k]
		}
	}
	walk(0)
}

// object is the JSON object of fields, in their order.
func object(fields [][2]string) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = fmt.Sprintf("%q:%s", f[0], f[1])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// perimeterJSON is a perimeter of the pairs numbered by ids, a number
// appearing twice making a duplicate pair.
func perimeterJSON(ids ...int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf(`{"variantId":"v%d","shopId":"s%d"}`, id, id%3)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// A request over a limit gets the one 400 CreateTasks answers, in whatever
// order its fields come; only how early it comes depends on the order.
func TestHandlerRefusesOverLimitsInAnyOrder(t *testing.T) {
	base := [][2]string{{"organizationId", `"org-1"`}, {"workflowRunId", `"run-1"`}, {"minConfidence", `0.5`}}
	tests := []struct {
		name   string
		svc    *taskcreate.Service
		fields [][2]string
		// early says whether the refusal comes before the body's end, given
		// the order, leaving the rest unread.
		early func(order []string) bool
	}{
		{name: "perimeter over MaxPerimeter", svc: taskcreate.New(unmatchedStore, taskcreate.WithMaxPerimeter(4)),
			fields: [][2]string{{"domains", `["restock"]`}, {"perimeter", perimeterJSON(1, 2, 3, 1, 2)}, {"dryRun", `true`}},
			early:  func([]string) bool { return true }},
		{name: "perimeter over MaxPerimeter, asking for outcomes", svc: taskcreate.New(unmatchedStore, taskcreate.WithMaxPerimeter(4)),
			fields: [][2]string{{"domains", `["restock"]`}, {"perimeter", perimeterJSON(1, 1, 1, 1, 1)}, {"returnOutcomes", `true`}},
			early:  func([]string) bool { return true }},
		// 6 unique pairs of 9, times 2 unique domains of 3: 12 candidates
		// over 10, crossed at the last unique pair or at the domains.
		{name: "candidates over MaxOutcomes", svc: taskcreate.New(unmatchedStore, taskcreate.WithMaxOutcomes(10)),
			fields: [][2]string{{"domains", `["restock","markdown","restock"]`}, {"perimeter", perimeterJSON(1, 2, 1, 3, 4, 2, 5, 6, 6)}, {"returnOutcomes", `true`}},
			early: func(order []string) bool {
				return strings.Index(strings.Join(order, " "), "returnOutcomes") < strings.Index(strings.Join(order, " "), "perimeter")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHandler(tt.svc, Options{Token: testToken})
			require.NoError(t, err)
			fields := append(append([][2]string(nil), base...), tt.fields...)

			// What CreateTasks answers for the request read whole.
			req, err := DecodeRequest(strings.NewReader(object(fields)))
			require.NoError(t, err)
			_, err = tt.svc.CreateTasks(t.Context(), req)
			require.ErrorIs(t, err, taskcreate.ErrInvalidRequest)
			want := httptest.NewRecorder()
			WriteError(want, err)
			require.Equal(t, http.StatusBadRequest, want.Code)

			orders, early := 0, 0
			permutations(fields, func(fields [][2]string) {
				orders++
				var order []string
				for _, f := range fields {
					order = append(order, f[0])
				}
				b := object(fields)
				// A byte at a time, so that what is read is what was decoded.
				body := &countingReader{r: iotest.OneByteReader(strings.NewReader(b))}
				w := post(h, body, len(b))
				require.Equal(t, http.StatusBadRequest, w.Code, "order %v", order)
				require.Equal(t, want.Body.String(), w.Body.String(), "order %v", order)
				if tt.early(order) {
					early++
					assert.Less(t, body.n.Load(), int64(len(b)), "order %v: refused after reading the whole body", order)
				} else {
					assert.Equal(t, int64(len(b)), body.n.Load(), "order %v: refused by CreateTasks", order)
				}
			})
			assert.Equal(t, 720, orders)
			assert.Positive(t, early)
		})
	}
}

// bigPerimeterBody is a body of n distinct pairs whose fields before the
// perimeter are head, and the offset in it of the end of pair stop.
func bigPerimeterBody(head string, n, stop int) ([]byte, int) {
	var b bytes.Buffer
	b.WriteString(`{"organizationId":"org-1","workflowRunId":"run-1","minConfidence":0.5,` + head + `"perimeter":[`)
	end := 0
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"variantId":"variant-%07d","shopId":"shop-%04d"}`, i, i%1000)
		if i == stop {
			end = b.Len()
		}
	}
	b.WriteString(`]}`)
	return b.Bytes(), end
}

// A body far larger than a bound is refused having read little more than
// the pairs up to the bound.
func TestHandlerRefusesOverLimitsEarly(t *testing.T) {
	const n, bound, slack = 100_000, 1000, 32 << 10
	tests := []struct {
		name  string
		svc   *taskcreate.Service
		head  string // the fields before the perimeter
		stop  int    // the index of the pair that crosses the bound
		field string
	}{
		{"perimeter", taskcreate.New(unmatchedStore, taskcreate.WithMaxPerimeter(bound)), `"domains":["restock"],`, bound, "perimeter"},
		{"outcomes, one domain", taskcreate.New(unmatchedStore, taskcreate.WithMaxOutcomes(bound)),
			`"domains":["restock"],"returnOutcomes":true,`, bound, "returnOutcomes"},
		{"outcomes, three domains", taskcreate.New(unmatchedStore, taskcreate.WithMaxOutcomes(bound)),
			`"returnOutcomes":true,"domains":["restock","markdown","rebalance"],`, bound / 3, "returnOutcomes"},
		{"outcomes, domains after", taskcreate.New(unmatchedStore, taskcreate.WithMaxOutcomes(bound)),
			`"returnOutcomes":true,`, bound, "returnOutcomes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHandler(tt.svc, Options{Token: testToken})
			require.NoError(t, err)
			b, end := bigPerimeterBody(tt.head, n, tt.stop)
			if !strings.Contains(tt.head, "domains") {
				b = append(b[:len(b)-1], `,"domains":["restock"]}`...)
			}
			for _, length := range []int{len(b), -1} {
				body := &countingReader{r: bytes.NewReader(b)}
				w := post(h, body, length)
				require.Equal(t, http.StatusBadRequest, w.Code, "body: %.300s", w.Body)
				resp := decodeResponse(t, w)
				require.Len(t, resp.FieldErrors, 1)
				assert.Equal(t, tt.field, resp.FieldErrors[0].Field)
				assert.Equal(t, CodeValidationError, resp.ErrorCode)
				assert.GreaterOrEqual(t, body.n.Load(), int64(end), "refused before the pair that crosses the bound")
				assert.LessOrEqual(t, body.n.Load(), int64(end+slack), "read %d bytes of %d", body.n.Load(), len(b))
			}
		})
	}
}

// Duplicates are collapsed before candidates are counted: many copies of
// one pair ask for one outcome per domain.
func TestHandlerOutcomesCountUniquePairs(t *testing.T) {
	svc := taskcreate.New(unmatchedStore, taskcreate.WithMaxOutcomes(2))
	h, err := NewHandler(svc, Options{Token: testToken})
	require.NoError(t, err)
	var b bytes.Buffer
	b.WriteString(`{"organizationId":"org-1","workflowRunId":"run-1","minConfidence":0.5,"returnOutcomes":true,"domains":["restock","markdown","restock"],"perimeter":[`)
	for i := range 200_000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"variantId":"v","shopId":"s"}`)
	}
	b.WriteString(`]}`)
	w := post(h, bytes.NewReader(b.Bytes()), b.Len())
	require.Equal(t, http.StatusOK, w.Code, "body: %.300s", w.Body)
	resp := decodeResponse(t, w)
	require.NotNil(t, resp.Data.Outcomes)
	assert.Len(t, *resp.Data.Outcomes, 2)
}

// DecodeRequestWithLimits gives other routers the same refusal: a
// *taskcreate.ValidationError, after the problems found before it;
// DecodeRequest reads on.
func TestDecodeRequestWithLimits(t *testing.T) {
	limits := taskcreate.Limits{MaxPerimeter: 2, MaxOutcomes: 100}
	b := `{"extra":1,"organizationId":"org-1","workflowRunId":"run-1","domains":["restock"],"minConfidence":0.6,"perimeter":` +
		perimeterJSON(1, 2, 3, 4) + `}`
	_, err := DecodeRequestWithLimits(strings.NewReader(b), limits)
	var invalid *taskcreate.ValidationError
	require.ErrorAs(t, err, &invalid)
	var want *taskcreate.ValidationError
	require.ErrorAs(t, limits.PerimeterError(3), &want)
	assert.Equal(t, append([]taskcreate.FieldError{{Field: "extra", Code: CodeValidationError, Message: "is not a known field"}}, want.Fields...),
		invalid.Fields)
	status, resp, _ := errorResponse(err)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, CodeValidationError, resp.ErrorCode)

	_, err = DecodeRequest(strings.NewReader(b))
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, []string{"extra"}, fieldsOf(invalid), "DecodeRequest leaves the size to CreateTasks")

	// Within the limits, the same request as DecodeRequest's.
	ok := body("returnOutcomes", "true", "perimeter", perimeterJSON(1, 2, 1, 2))
	got, err := DecodeRequestWithLimits(strings.NewReader(ok), taskcreate.Limits{MaxPerimeter: 4, MaxOutcomes: 2})
	require.NoError(t, err)
	wantReq, err := DecodeRequest(strings.NewReader(ok))
	require.NoError(t, err)
	assert.Equal(t, wantReq, got)

	// Domains after the perimeter: unknown ones make no candidates, and
	// until they are read one domain counts.
	for domains, refused := range map[string]bool{`["bogus","restock"]`: false, `[]`: false, `7`: false, `["restock","markdown"]`: true} {
		req := `{"returnOutcomes":true,"organizationId":"org-1","workflowRunId":"run-1","minConfidence":0.6,"perimeter":` +
			perimeterJSON(1, 2) + `,"domains":` + domains + `}`
		_, err := DecodeRequestWithLimits(strings.NewReader(req), taskcreate.Limits{MaxPerimeter: 4, MaxOutcomes: 2})
		var fields []string
		if errors.As(err, &invalid) {
			fields = fieldsOf(invalid)
		}
		assert.Equal(t, refused, slices.Contains(fields, "returnOutcomes"), "domains %s: %v", domains, err)
	}
}

func fieldsOf(invalid *taskcreate.ValidationError) []string {
	var out []string
	for _, f := range invalid.Fields {
		out = append(out, f.Field)
	}
	return out
}

// paddedBody is the seed body grown to n bytes by trailing spaces.
func paddedBody(t *testing.T, n int) string {
	t.Helper()
	require.GreaterOrEqual(t, n, len(seedBody))
	return seedBody + strings.Repeat(" ", n-len(seedBody))
}

// assertTooManyRequests checks that w is the refusal of a request beyond a
// bound of the calls or bytes in flight.
func assertTooManyRequests(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, w.Code, "body: %s", w.Body)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	resp := decodeResponse(t, w)
	assert.False(t, resp.Success)
	assert.Equal(t, CodeTooManyRequests, resp.ErrorCode)
	assert.Contains(t, resp.Error, "no task was written")
}

// A request whose Content-Length does not fit in what the running calls
// leave is refused at once, unread; the bytes come back once the response
// of the call that held them is written.
func TestHandlerMaxInFlightBytesContentLength(t *testing.T) {
	ts, entered, release := blockingStore()
	const bound = 4096
	h, err := NewHandler(taskcreate.New(ts), Options{Token: testToken, MaxBodyBytes: bound, MaxInFlightBytes: bound})
	require.NoError(t, err)

	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- post(h, strings.NewReader(paddedBody(t, 3000)), 3000) }()
	<-entered // the first call holds 3000 of the 4096 bytes

	body := &readRecorder{r: strings.NewReader(paddedBody(t, 1097))}
	w := post(h, body, 1097)
	assertTooManyRequests(t, w)
	assert.False(t, body.read, "the body of a refused request was read")

	// What is left is still free: a request that fits exactly goes through.
	second := make(chan *httptest.ResponseRecorder)
	go func() { second <- post(h, strings.NewReader(paddedBody(t, 1096)), 1096) }()
	<-entered
	release <- struct{}{}
	release <- struct{}{}
	require.Equal(t, http.StatusOK, (<-first).Code)
	require.Equal(t, http.StatusOK, (<-second).Code)

	// Every byte is back: the largest body is admitted.
	go func() { <-entered; release <- struct{}{} }()
	w = post(h, strings.NewReader(paddedBody(t, bound)), bound)
	assert.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body)
	assert.Zero(t, h.(*handler).inFlight.used.Load())
}

// A body of unknown length takes its bytes as they arrive, and is refused
// as soon as they stop fitting, the rest unread.
func TestHandlerMaxInFlightBytesChunked(t *testing.T) {
	ts, entered, release := blockingStore()
	const bound = 64 << 10
	h, err := NewHandler(taskcreate.New(ts), Options{Token: testToken, MaxBodyBytes: bound, MaxInFlightBytes: bound})
	require.NoError(t, err)

	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- post(h, strings.NewReader(paddedBody(t, bound-10_000)), bound-10_000) }()
	<-entered

	huge := &countingReader{r: strings.NewReader(paddedBody(t, 1<<20))} // over MaxBodyBytes too, but the bound comes first
	w := post(h, huge, -1)
	assertTooManyRequests(t, w)
	assert.Positive(t, huge.n.Load())
	assert.Less(t, huge.n.Load(), int64(10_000+16<<10), "read far past what fits")

	// A chunked body that fits goes through, taking its bytes as it goes.
	second := make(chan *httptest.ResponseRecorder)
	go func() { second <- post(h, strings.NewReader(paddedBody(t, 9_000)), -1) }()
	<-entered
	release <- struct{}{}
	release <- struct{}{}
	require.Equal(t, http.StatusOK, (<-first).Code)
	require.Equal(t, http.StatusOK, (<-second).Code)
	assert.Zero(t, h.(*handler).inFlight.used.Load(), "bytes held after the responses")
}

// Many requests at once, of every kind the bound sees (sized, chunked,
// refused, failing), never hold more than the bound and give every byte
// back.
func TestHandlerMaxInFlightBytesConcurrent(t *testing.T) {
	const bound = 32 << 10
	var h http.Handler
	var over atomic.Int64 // in flight above the bound, seen by a running call
	ts := storeFunc(func(_ context.Context, b *store.Batch) (store.Outcome, error) {
		if used := h.(*handler).inFlight.used.Load(); used > bound {
			over.Store(used)
		}
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		return store.Outcome{Unmatched: b.Len()}, nil
	})
	var err error
	h, err = NewHandler(taskcreate.New(ts), Options{Token: testToken, MaxBodyBytes: 16 << 10, MaxInFlightBytes: bound})
	require.NoError(t, err)

	var wg sync.WaitGroup
	var statuses sync.Map
	for i := range 200 {
		wg.Go(func() {
			size := len(seedBody) + rand.IntN(16<<10-len(seedBody))
			b := paddedBody(t, size)
			if i%7 == 0 {
				b = `{"organizationId":1}` + strings.Repeat(" ", size)
			}
			length := len(b)
			if i%2 == 0 {
				length = -1
			}
			w := post(h, strings.NewReader(b), length)
			n, _ := statuses.LoadOrStore(w.Code, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
		})
	}
	wg.Wait()
	statuses.Range(func(code, n any) bool {
		t.Logf("%d: %d requests", code, n.(*atomic.Int64).Load())
		assert.Contains(t, []int{http.StatusOK, http.StatusBadRequest, http.StatusTooManyRequests}, code, "%d requests", n.(*atomic.Int64).Load())
		return true
	})
	assert.Zero(t, over.Load(), "bytes in flight above the bound")
	assert.Zero(t, h.(*handler).inFlight.used.Load(), "bytes held after every response")
}

// The counter itself: exactly what fits is taken, and never more than the
// bound, even at its largest.
func TestInFlight(t *testing.T) {
	f := &inFlight{max: 10}
	assert.True(t, f.acquire(4))
	assert.True(t, f.acquire(6))
	assert.False(t, f.acquire(1))
	assert.True(t, f.acquire(0))
	f.release(6)
	assert.False(t, f.acquire(7))
	assert.True(t, f.acquire(6))
	assert.Equal(t, int64(10), f.used.Load())

	unbounded := &inFlight{max: math.MaxInt64}
	assert.True(t, unbounded.acquire(math.MaxInt64-1))
	assert.False(t, unbounded.acquire(2), "overflowed")
	assert.True(t, unbounded.acquire(1))

	var wg sync.WaitGroup
	f = &inFlight{max: 100}
	var took atomic.Int64
	for range 64 {
		wg.Go(func() {
			for range 1000 {
				if f.acquire(7) {
					if took.Add(7) > 100 {
						t.Error("more than the bound taken")
					}
					took.Add(-7)
					f.release(7)
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, f.used.Load())
}

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
	h = recordExchanges(t).wrap(t, h)
	w := serve(h, newRequest(Path, testToken, strings.NewReader(strings.Replace(seedBody, `"domains"`, `"retireStale":true,"domains"`, 1))))
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
