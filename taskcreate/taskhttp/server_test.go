package taskhttp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/taskcreate"
)

// The tests through a real http.Server: what net/http does around the
// handler (timeouts, draining, closing) is part of each answer.

// A body that stops arriving, through a real http.Server whose ReadTimeout
// ends it: the answer is a 408 and the connection is closed.
func TestServerReadTimeout(t *testing.T) {
	h, err := NewHandler(taskcreate.New(unmatchedStore), Options{Token: testToken})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	// Headers announcing the whole seed body, then only its first half.
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		Path, testToken, len(seedBody), seedBody[:len(seedBody)/2])
	require.NoError(t, err)

	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	start := time.Now()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "answered before the read timeout")
	require.Equal(t, http.StatusRequestTimeout, res.StatusCode)
	assert.True(t, res.Close, "the connection is kept open")
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	var resp Response
	require.NoError(t, json.NewDecoder(res.Body).Decode(&resp))
	assert.False(t, resp.Success)
	assert.Equal(t, CodeRequestTimeout, resp.ErrorCode)
	assert.NotEmpty(t, resp.Error)
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
		srv, read := countingServer(t, served)
		for _, chunked := range []bool{false, true} {
			for range 3 {
				read.Store(0)
				var body io.Reader = bytes.NewReader(b)
				if chunked {
					body = io.NopCloser(body)
				}
				res, err := postTo(t, http.DefaultClient, srv.URL, body)
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

// Through a real server: a request that does not fit gets its 429 before
// the client has sent its body, sized or chunked, and even when the request
// says Connection: close (net/http would then close at once, and the reset
// of the unread body could destroy the answer).
func TestServerMaxInFlightBytes(t *testing.T) {
	ts, entered, release := blockingStore()
	h, err := NewHandler(taskcreate.New(ts), Options{Token: testToken, MaxBodyBytes: 4 << 20, MaxInFlightBytes: 4 << 20})
	require.NoError(t, err)
	srv, read := countingServer(t, h)
	var once sync.Once
	stop := func() { once.Do(func() { close(release) }) }
	t.Cleanup(stop) // before srv.Close, which waits for the held call
	send := func(body io.Reader, keepAlive bool) (*http.Response, error) {
		// A timeout, so that a lost answer fails the test instead of hanging it.
		return postTo(t, &http.Client{Transport: &http.Transport{DisableKeepAlives: !keepAlive}, Timeout: 20 * time.Second}, srv.URL, body)
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
