package taskhttp

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

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

// Strings decode exactly as encoding/json decodes them, escapes and
// invalid UTF-8 included, in the perimeter as at the top level.
func TestDecodeRequestStrings(t *testing.T) {
	for _, raw := range []string{`"plain"`, `"caf\u00e9 \"quoted\" \\ \/ \n"`, `"café"`, "\"bad \xff utf-8\"", `"\ud800 lone surrogate"`, `"日本"`, `""`} {
		var want string
		require.NoError(t, json.Unmarshal([]byte(raw), &want))
		b := body("organizationId", raw, "perimeter", `[{"variantId":`+raw+`,"shopId":`+raw+`}]`)
		got, err := decodeRequest(strings.NewReader(b))
		if err != nil {
			var invalid *taskcreate.ValidationError
			require.ErrorAs(t, err, &invalid, "raw %s", raw) // the domain's rules may still reject the value
		}
		assert.Equal(t, want, got.OrganizationID, "raw %s", raw)
		require.Len(t, got.Perimeter, 1)
		assert.Equal(t, taskcreate.Pair{VariantID: want, ShopID: want}, got.Perimeter[0], "raw %s", raw)
	}
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
	require.Len(t, invalid.Fields, maxFieldErrors)
	assert.Equal(t, "perimeter[0].x", invalid.Fields[0].Field)
	last := invalid.Fields[maxFieldErrors-1]
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
	} {
		f.Add(seed)
	}
	store := &countingStore{TaskStore: unmatchedStore}
	svc := taskcreate.New(store)
	f.Fuzz(func(t *testing.T, body string) {
		limited := http.MaxBytesReader(httptest.NewRecorder(), nopCloser{strings.NewReader(body)}, 1<<16)
		req, err := DecodeRequest(limited)
		if err != nil {
			if status, _ := errorResponse(err); status < 400 || status > 499 {
				t.Fatalf("decoding %q: status %d for %v", body, status, err)
			}
			var invalid *taskcreate.ValidationError
			if errors.As(err, &invalid) && len(invalid.Fields) == 0 {
				t.Fatalf("decoding %q: a validation error without field errors", body)
			}
			return
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
			if status, _ := errorResponse(err); status != http.StatusBadRequest {
				t.Fatalf("request %+v from %q: status %d for %v", req, body, status, err)
			}
			if store.calls.Load() != before {
				t.Fatalf("request %+v from %q reached the store though invalid", req, body)
			}
		}
	})
}
