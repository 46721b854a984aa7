package taskhttp

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setClientHeaders sets what every client of the endpoint sends: the
// bearer token and the JSON content type.
func setClientHeaders(h http.Header, token string) {
	h.Set("Authorization", "Bearer "+token)
	h.Set("Content-Type", "application/json")
}

// newRequest is a POST of body to path, sent with token.
func newRequest(path, token string, body io.Reader) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, body)
	setClientHeaders(r.Header, token)
	return r
}

// serve answers r with h.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// post sends body to h as a request with the test token and a
// Content-Length of length, or none (chunked) if length is -1.
func post(h http.Handler, body io.Reader, length int) *httptest.ResponseRecorder {
	r := newRequest(Path, testToken, io.NopCloser(body))
	r.ContentLength = int64(length)
	return serve(h, r)
}

// decodeResponse is the envelope w holds.
func decodeResponse(t *testing.T, w *httptest.ResponseRecorder) Response {
	t.Helper()
	var resp Response
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp), "body: %s", w.Body)
	return resp
}

// responseFields lists the fieldErrors of resp as "field code", checking
// that each has a message.
func responseFields(t *testing.T, resp Response) []string {
	t.Helper()
	var fields []string
	for _, f := range resp.FieldErrors {
		fields = append(fields, f.Field+" "+f.Code)
		assert.NotEmpty(t, f.Message, "message of %s", f.Field)
	}
	return fields
}

// readRecorder records whether it was read at all.
type readRecorder struct {
	r    io.Reader
	read bool
}

func (b *readRecorder) Read(p []byte) (int, error) {
	b.read = true
	return b.r.Read(p)
}

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

// countingServer starts a real server of h, closed at the end of the test,
// and returns it with the count of the bytes it has read.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64) {
	srv := httptest.NewUnstartedServer(h)
	read := new(atomic.Int64)
	srv.Listener = countingListener{srv.Listener, read}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, read
}

// postTo sends body to the endpoint of the server at url with the test
// token, through client.
func postTo(t *testing.T, client *http.Client, url string, body io.Reader) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+Path, body)
	require.NoError(t, err)
	setClientHeaders(req.Header, testToken)
	return client.Do(req)
}
