package taskhttp

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/taskcreate"
)

func TestDecodeRequestSeed(t *testing.T) {
	req, err := DecodeRequest(strings.NewReader(seedBody))
	require.NoError(t, err)
	assert.Equal(t, taskcreate.Request{
		OrganizationID: seedOrg,
		WorkflowRunID:  seedRun,
		Domains:        []taskcreate.Domain{taskcreate.Restock},
		MinConfidence:  0.6,
		Perimeter: []taskcreate.Pair{
			{VariantID: "variant-uuid-1", ShopID: "shop-uuid-1"},
			{VariantID: "variant-uuid-2", ShopID: "shop-uuid-2"},
		},
	}, req)
}

// Valid strings decode exactly as encoding/json decodes them, escapes
// included, in the perimeter as at the top level.
func TestDecodeRequestStrings(t *testing.T) {
	for _, raw := range []string{
		`"plain"`, `"caf\u00e9 \"quoted\" \\ \/ \n"`, `"café"`, `"日本"`, `""`,
		"\"\uFFFD literal replacement character\"", `"\ufffd escaped"`, `"\uFFFD"`,
		`"\ud83d\ude00 pair"`, `"\uD83D\uDE00"`, "\"\U0001F600 raw\"", `"\\ud800 escaped backslash"`,
	} {
		var want string
		require.NoError(t, json.Unmarshal([]byte(raw), &want))
		b := body("organizationId", raw, "domains", `["restock",`+raw+`]`, "perimeter", `[{"variantId":`+raw+`,"shopId":`+raw+`}]`)
		got, err := decodeRequest(strings.NewReader(b), nil)
		var invalid *taskcreate.ValidationError
		if errors.As(err, &invalid) {
			for _, f := range invalid.Fields {
				assert.NotEqual(t, "must be valid UTF-8", f.Message, "raw %s: %s", raw, f.Field)
			}
		} else {
			require.NoError(t, err, "raw %s", raw)
		}
		assert.Equal(t, want, got.OrganizationID, "raw %s", raw)
		assert.Equal(t, []taskcreate.Domain{taskcreate.Restock, taskcreate.Domain(want)}, got.Domains, "raw %s", raw)
		require.Len(t, got.Perimeter, 1)
		assert.Equal(t, taskcreate.Pair{VariantID: want, ShopID: want}, got.Perimeter[0], "raw %s", raw)
	}
}

// invalidUTF8 are JSON strings that encoding/json would decode to U+FFFD,
// so that different bytes would become the same id.
var invalidUTF8 = []string{
	"\"\xff\"", "\"bad \xff byte\"", "\"\xc0\xaf overlong\"", "\"\xe6\x97 cut\"", "\"\xed\xa0\x80 encoded surrogate\"",
	`"\ud800"`, `"\uD800 lone high"`, `"\udc00 lone low"`, `"x\udfff"`, `"\ud800x"`, `"\ud800\u0041"`, `"\ud800\ud800"`,
	`"\ude00\ud83d reversed pair"`, `"\ud83d\n"`, `"\\\ud800 after an escaped backslash"`, `"ok \ud83d\ude00 then \ud83d"`,
}

func TestDecodeRequestRejectsInvalidUTF8(t *testing.T) {
	for _, raw := range invalidUTF8 {
		b := body("organizationId", raw, "workflowRunId", raw, "domains", `["restock",`+raw+`]`,
			"perimeter", `[{"shopId":"s","variantId":"v"},{"variantId":`+raw+`,"shopId":`+raw+`}]`)
		_, err := DecodeRequest(strings.NewReader(b))
		var invalid *taskcreate.ValidationError
		require.ErrorAs(t, err, &invalid, "raw %q", raw)
		var got []string
		for _, f := range invalid.Fields {
			assert.Equal(t, CodeValidationError, f.Code, "raw %q: %s", raw, f.Field)
			assert.Equal(t, "must be valid UTF-8", f.Message, "raw %q: %s", raw, f.Field)
			got = append(got, f.Field)
		}
		assert.Equal(t, []string{"organizationId", "workflowRunId", "domains[1]", "perimeter[1].variantId", "perimeter[1].shopId"}, got, "raw %q", raw)
		status, resp, _ := errorResponse(err)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, CodeValidationError, resp.ErrorCode)
	}
}

// timeoutReader yields its text, then fails as a read past its deadline does.
type timeoutReader struct {
	text string
	err  error
}

func (r *timeoutReader) Read(p []byte) (int, error) {
	if r.text == "" {
		return 0, r.err
	}
	n := copy(p, r.text)
	r.text = r.text[n:]
	return n, nil
}

// netTimeout is a net.Error that timed out, as some readers report it.
type netTimeout struct{}

func (netTimeout) Error() string   { return "i/o timeout" }
func (netTimeout) Timeout() bool   { return true }
func (netTimeout) Temporary() bool { return true }

// A body that stops arriving is a 408 wherever it stops, not a bad body.
func TestDecodeRequestReadTimeout(t *testing.T) {
	for _, readErr := range []error{os.ErrDeadlineExceeded, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, netTimeout{}} {
		for _, cut := range []int{0, 1, 20, strings.Index(seedBody, "perimeter") + 30, len(seedBody) - 1, len(seedBody)} {
			_, err := DecodeRequest(&timeoutReader{text: seedBody[:cut], err: readErr})
			require.ErrorIs(t, err, ErrRequestTimeout, "%v after %d bytes", readErr, cut)
			require.ErrorIs(t, err, readErr, "the reader's error is kept")
			assert.NotErrorIs(t, err, taskcreate.ErrInvalidRequest)
			status, resp, header := errorResponse(err)
			assert.Equal(t, http.StatusRequestTimeout, status)
			assert.Equal(t, CodeRequestTimeout, resp.ErrorCode)
			assert.Equal(t, "close", header.Get("Connection"))
		}
	}

	// Any other read failure is still a bad body, where the decoder was.
	_, err := DecodeRequest(&timeoutReader{text: seedBody[:20], err: errors.New("connection reset by peer")})
	var invalid *taskcreate.ValidationError
	require.ErrorAs(t, err, &invalid)
	require.Len(t, invalid.Fields, 1)
	assert.Equal(t, "could not be read", invalid.Fields[0].Message)
	assert.NotErrorIs(t, err, ErrRequestTimeout)
}

func TestDecodeRequestLargePerimeter(t *testing.T) {
	const n = 100_000
	req, err := DecodeRequest(strings.NewReader(string(largeBody(t, n))))
	require.NoError(t, err)
	require.Len(t, req.Perimeter, n)
	assert.Equal(t, taskcreate.Pair{VariantID: "variant-0099999", ShopID: "shop-0999"}, req.Perimeter[n-1])
}

// A body full of bad pairs lists a bounded number of problems.
func TestDecodeRequestManyProblems(t *testing.T) {
	b := body("perimeter", "["+strings.TrimSuffix(strings.Repeat(`{"x":1},`, 5000), ",")+"]")
	_, err := DecodeRequest(strings.NewReader(b))
	var invalid *taskcreate.ValidationError
	require.ErrorAs(t, err, &invalid)
	require.Len(t, invalid.Fields, taskcreate.MaxFieldErrors)
	assert.Equal(t, "perimeter[0].x", invalid.Fields[0].Field)
	last := invalid.Fields[taskcreate.MaxFieldErrors-1]
	assert.Equal(t, "", last.Field)
	assert.Contains(t, last.Message, "more than")
}

func TestDecodeRequestLongUnknownName(t *testing.T) {
	name := strings.Repeat("k", 10_000)
	_, err := DecodeRequest(strings.NewReader(body(name, "1", "perimeter", `[{"`+name+`":1,"variantId":"v","shopId":"s"}]`)))
	var invalid *taskcreate.ValidationError
	require.ErrorAs(t, err, &invalid)
	require.Len(t, invalid.Fields, 2)
	assert.Equal(t, "perimeter[0]."+name[:maxKeyBytes]+"...", invalid.Fields[0].Field)
	assert.Equal(t, name[:maxKeyBytes]+"...", invalid.Fields[1].Field)
}

// Deeply nested values are refused without memory growing with the depth.
func TestDecodeRequestDeepNesting(t *testing.T) {
	for _, b := range []string{
		`{"extra":` + strings.Repeat("[", 1<<20),
		`{"domains":` + strings.Repeat("[", 1<<20),
		`{"perimeter":[` + strings.Repeat("[", 1<<20),
		`{"perimeter":[{"shopId":` + strings.Repeat("[", 1<<20),
		`{"perimeter":[{"extra":` + strings.Repeat("[", 1<<20),
		`{"domains":{"a":` + strings.Repeat("[", 1<<20),
		`{"perimeter":[[` + strings.Repeat(`{"a":`, 1<<18),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := DecodeRequest(strings.NewReader(b))
		runtime.ReadMemStats(&after)
		var invalid *taskcreate.ValidationError
		require.ErrorAs(t, err, &invalid)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(len(b)), "bytes allocated decoding %.30s...", b)
	}
}

// A body over the limit is reported as such however far the decoder got.
func TestDecodeRequestBodyLimit(t *testing.T) {
	for limit := int64(0); limit < int64(len(seedBody)); limit += 7 {
		r := http.MaxBytesReader(httptest.NewRecorder(), nopCloser{strings.NewReader(seedBody)}, limit)
		_, err := DecodeRequest(r)
		var tooLarge *http.MaxBytesError
		require.ErrorAs(t, err, &tooLarge, "limit %d", limit)
	}
}

// requestStrings lists every string of req.
func requestStrings(req taskcreate.Request) []string {
	out := []string{req.OrganizationID, req.WorkflowRunID}
	for _, d := range req.Domains {
		out = append(out, string(d))
	}
	for _, p := range req.Perimeter {
		out = append(out, p.VariantID, p.ShopID)
	}
	return out
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

// FuzzDecodeRequest checks that any body either decodes into a request or
// is refused with a 4xx, never panics, and never lets a request the domain
// rejects reach the store.
func FuzzDecodeRequest(f *testing.F) {
	f.Add(seedBody)
	for _, seed := range []string{
		"", " ", "{}", "[]", `"x"`, "5", "null", "true", "{", "}", `{"a" 1}`, `{'a':1}`, seedBody + " x", seedBody + seedBody,
		body("minConfidence", ""), body("minConfidence", "null"), body("minConfidence", "0"), body("minConfidence", `"0.6"`),
		body("minConfidence", "1e400"), body("minConfidence", "-0"), body("minConfidence", "1.5"),
		body("organizationId", "42"), body("organizationId", `""`), body("organizationId", `"\u0000"`),
		body("domains", `"restock"`), body("domains", `[]`), body("domains", `["restock",7]`), body("domains", `["bogus"]`),
		body("perimeter", `{}`), body("perimeter", `[]`), body("perimeter", `[5]`), body("perimeter", `[null]`),
		body("perimeter", `[{"shopID":"s","variantId":"v"}]`), body("perimeter", `[{"shopId":"s","shopId":"t","variantId":"v"}]`),
		body("perimeter", `[{"shopId":{"a":[1,{"b":"}"}]},"variantId":"v"}]`), body("perimeter", `[{"shop\u0049d":"s","variantId":"v \"q\""}]`),
		body("extra", `{"nested":[1,2,{"x":null}]}`), body("organizationId", "", "organizationId", "null", "organizationId", `"x"`),
		seedBody[:len(seedBody)/2], `{"extra":` + strings.Repeat("[", 10_001), `{"perimeter":[` + strings.Repeat(`{"a":[`, 100), strings.Replace(seedBody, `"shopId"`, `"shopId" `, 1),
		body("organizationId", `"\ufffd"`), body("organizationId", "\"\uFFFD\""), body("workflowRunId", `"\ud83d\ude00"`),
		body("perimeter", `[{"shopId":"\uD83D\uDE00","variantId":"v"}]`), body("domains", `["restock","\\ud800"]`),
	} {
		f.Add(seed)
	}
	for _, seed := range []string{
		body("perimeter", `[{"shopId":"a","variantId":"v"},{"shopId":"b","variantId":"v"},{"shopId":"c","variantId":"v"},{"shopId":"d","variantId":"v"}]`),
		body("returnOutcomes", "true", "perimeter", `[{"shopId":"a","variantId":"v"},{"shopId":"b","variantId":"v"},{"shopId":"a","variantId":"v"}]`),
		`{"returnOutcomes":true,"perimeter":[{"shopId":"a","variantId":"v"},{"shopId":"b","variantId":"v"},{"shopId":"c","variantId":"v"}],` +
			`"domains":["restock","markdown"],"organizationId":"o","workflowRunId":"r","minConfidence":0}`,
		`{"domains":["restock","markdown","rebalance"],"returnOutcomes":true,"perimeter":[{"shopId":"a","variantId":"v"},5,{"shopId":"b","variantId":"v"}]}`,
	} {
		f.Add(seed)
	}
	for _, raw := range invalidUTF8 {
		f.Add(body("organizationId", raw))
		f.Add(body("domains", `[`+raw+`]`))
		f.Add(body("perimeter", `[{"shopId":"s","variantId":`+raw+`}]`))
	}
	// The only ways a body may spell U+FFFD: anything else that encoding/json
	// turns into it is invalid UTF-8, which must not be accepted.
	escapedReplacement := regexp.MustCompile(`(?i)\\ufffd`)
	store := &countingStore{TaskStore: unmatchedStore}
	svc := taskcreate.New(store)
	small := taskcreate.New(store, taskcreate.WithMaxPerimeter(3), taskcreate.WithMaxOutcomes(4))
	f.Fuzz(func(t *testing.T, body string) {
		limited := http.MaxBytesReader(httptest.NewRecorder(), nopCloser{strings.NewReader(body)}, 1<<16)
		req, err := DecodeRequest(limited)

		// Refusing while reading changes when a request is refused, never
		// whether: what is refused early CreateTasks refuses too.
		within, withinErr := DecodeRequestWithLimits(strings.NewReader(body), small.Limits())
		switch {
		case withinErr == nil:
			require.NoError(t, err, "accepted within limits, refused without: %q", body)
			require.Equal(t, req, within)
		case err == nil:
			require.ErrorIs(t, withinErr, taskcreate.ErrInvalidRequest, "decoding %q", body)
			before := store.calls.Load()
			_, err := small.CreateTasks(t.Context(), req)
			require.ErrorIs(t, err, taskcreate.ErrInvalidRequest, "refused early, accepted by CreateTasks: %q", body)
			require.Equal(t, before, store.calls.Load())
		default:
			if status, _, _ := errorResponse(withinErr); status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge {
				t.Fatalf("decoding %q within limits: status %d for %v", body, status, withinErr)
			}
		}

		if err != nil {
			if status, _, _ := errorResponse(err); status < 400 || status > 499 {
				t.Fatalf("decoding %q: status %d for %v", body, status, err)
			}
			var invalid *taskcreate.ValidationError
			if errors.As(err, &invalid) && len(invalid.Fields) == 0 {
				t.Fatalf("decoding %q: a validation error without field errors", body)
			}
			return
		}

		// (Not a regexp for the literal: it would match invalid bytes too.)
		if !strings.Contains(body, "\uFFFD") && !escapedReplacement.MatchString(body) {
			for _, s := range requestStrings(req) {
				if strings.ContainsRune(s, utf8.RuneError) {
					t.Fatalf("decoding %q: accepted %q, a replacement character the body does not hold", body, s)
				}
			}
		}

		// The wire form of an accepted request decodes back to it.
		again, err := json.Marshal(NewRequestBody(req))
		require.NoError(t, err)
		req2, err := DecodeRequest(strings.NewReader(string(again)))
		require.NoError(t, err, "re-decoding %s", again)
		require.Equal(t, req, req2)

		// The domain then accepts it, touching the store, or rejects it
		// with a 4xx, without touching the store.
		before := store.calls.Load()
		_, err = svc.CreateTasks(t.Context(), req)
		if err != nil {
			if status, _, _ := errorResponse(err); status != http.StatusBadRequest {
				t.Fatalf("request %+v from %q: status %d for %v", req, body, status, err)
			}
			if store.calls.Load() != before {
				t.Fatalf("request %+v from %q reached the store though invalid", req, body)
			}
		}
	})
}
