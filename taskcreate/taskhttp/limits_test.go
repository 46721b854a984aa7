package taskhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/taskcreate"
)

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
				var resp Response
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
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
	var resp Response
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
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

// countingListener counts the bytes read from its connections.
type countingListener struct {
	net.Listener
	read *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return countingConn{c, l.read}, err
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// Through a real server: the refusal reaches the client, which has not
// sent most of its body, and the connection is closed, also behind a
// middleware that wraps the body, as otelhttp does.
func TestServerRefusesOverLimitsEarly(t *testing.T) {
	svc := taskcreate.New(unmatchedStore, taskcreate.WithMaxPerimeter(1000))
	h, err := NewHandler(svc, Options{Token: testToken})
	require.NoError(t, err)
	b, end := bigPerimeterBody(`"domains":["restock"],`, 200_000, 1000)
	for _, wrap := range []bool{false, true} {
		var served http.Handler = h
		if wrap {
			served = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Body = io.NopCloser(r.Body)
				h.ServeHTTP(w, r)
			})
		}
		srv := httptest.NewUnstartedServer(served)
		var read atomic.Int64
		srv.Listener = countingListener{srv.Listener, &read}
		srv.Start()
		t.Cleanup(srv.Close)
		for _, chunked := range []bool{false, true} {
			for range 3 {
				read.Store(0)
				var body io.Reader = bytes.NewReader(b)
				if chunked {
					body = io.NopCloser(body)
				}
				req, err := http.NewRequest(http.MethodPost, srv.URL+Path, body)
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer "+testToken)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err, "wrapped %v, chunked %v", wrap, chunked)
				var resp Response
				require.NoError(t, json.NewDecoder(res.Body).Decode(&resp))
				res.Body.Close()
				assert.Equal(t, http.StatusBadRequest, res.StatusCode)
				assert.True(t, res.Close, "the connection is kept open")
				require.Len(t, resp.FieldErrors, 1)
				assert.Equal(t, "perimeter", resp.FieldErrors[0].Field)
				// net/http reads up to 256 KiB of the rest, twice for a chunked body, looking for its end.
				assert.Less(t, read.Load(), int64(end+1<<20), "wrapped %v, chunked %v: the server read %d bytes of %d", wrap, chunked, read.Load(), len(b))
			}
		}
	}
}
