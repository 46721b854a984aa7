package taskhttp

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// post sends body to h as a request with the test token and a
// Content-Length of length, or none (chunked) if length is -1.
func post(h http.Handler, body io.Reader, length int) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, Path, io.NopCloser(body))
	r.Header.Set("Authorization", "Bearer "+testToken)
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = int64(length)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// blockingStore holds every call until released, announcing it on entered.
func blockingStore() (ts storeFunc, entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	return func(_ context.Context, b *store.Batch) (store.Outcome, error) {
		entered <- struct{}{}
		<-release
		return store.Outcome{Unmatched: b.Len()}, nil
	}, entered, release
}

// paddedBody is the seed body grown to n bytes by trailing spaces.
func paddedBody(t *testing.T, n int) string {
	t.Helper()
	require.GreaterOrEqual(t, n, len(seedBody))
	return seedBody + strings.Repeat(" ", n-len(seedBody))
}

func assertTooManyRequests(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, w.Code, "body: %s", w.Body)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	var resp Response
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
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

// Through a real server: a request that does not fit gets its 429 before
// the client has sent its body, sized or chunked, and even when the request
// says Connection: close (net/http would then close at once, and the reset
// of the unread body could destroy the answer).
func TestServerMaxInFlightBytes(t *testing.T) {
	ts, entered, release := blockingStore()
	h, err := NewHandler(taskcreate.New(ts), Options{Token: testToken, MaxBodyBytes: 4 << 20, MaxInFlightBytes: 4 << 20})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	var read atomic.Int64
	srv.Listener = countingListener{srv.Listener, &read}
	srv.Start()
	t.Cleanup(srv.Close)
	var once sync.Once
	stop := func() { once.Do(func() { close(release) }) }
	t.Cleanup(stop) // before srv.Close, which waits for the held call
	send := func(body io.Reader, keepAlive bool) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+Path, body)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		// A timeout, so that a lost answer fails the test instead of hanging it.
		return (&http.Client{Transport: &http.Transport{DisableKeepAlives: !keepAlive}, Timeout: 20 * time.Second}).Do(req)
	}

	first := make(chan int, 1)
	go func() {
		res, err := send(strings.NewReader(paddedBody(t, 3<<20)), true)
		if err != nil {
			first <- 0
			return
		}
		res.Body.Close()
		first <- res.StatusCode
	}()
	<-entered // 3 of the 4 MiB are held

	for _, chunked := range []bool{false, true} {
		for _, keepAlive := range []bool{true, false} {
			for range 3 {
				read.Store(0)
				huge := strings.NewReader(paddedBody(t, 4<<20)) // of known length: refused unread
				var body io.Reader = huge
				if chunked {
					huge = strings.NewReader(paddedBody(t, 16<<20)) // refused past the free MiB
					body = io.NopCloser(huge)
				}
				res, err := send(body, keepAlive)
				require.NoError(t, err, "chunked %v, keep-alive %v", chunked, keepAlive)
				res.Body.Close()
				assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
				assert.True(t, res.Close, "the connection is kept open")
				assert.Equal(t, "1", res.Header.Get("Retry-After"))
				// What fits, and what net/http may drain of the rest (up to twice for a chunked body).
				assert.Less(t, read.Load(), int64(1<<20+2*maxDrainedBytes+64<<10), "the server read past what fits")
			}
		}
	}
	stop()
	assert.Equal(t, http.StatusOK, <-first)
}
