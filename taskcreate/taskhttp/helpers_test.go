package taskhttp

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

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

// update has the tests that record their exchanges write them to
// exchangesFile instead of comparing them with it.
var update = flag.Bool("update", false, "rewrite "+exchangesFile+" from the exchanges the tests record")

// exchangesFile holds, by top-level test, every request the handler tests
// make and the answer they get, for the contract test of openapi.yaml
// (examples/openapi).
const exchangesFile = "testdata/exchanges.json"

// exchange is one request and its answer.
type exchange struct {
	Test     string          `json:"test"` // the (sub)test that made it
	Request  exchangeMessage `json:"request"`
	Response exchangeMessage `json:"response"`
}

// exchangeMessage is a request (Method, Path, ContentLength) or a response
// (Status), with the headers that matter to the contract.
type exchangeMessage struct {
	Method        string      `json:"method,omitempty"`
	Path          string      `json:"path,omitempty"`
	Status        int         `json:"status,omitempty"`
	Header        http.Header `json:"header"`
	ContentLength *int64      `json:"contentLength,omitempty"` // -1: none, the body was sent chunked
	Body          string      `json:"body"`
	BodyBase64    bool        `json:"bodyBase64,omitempty"`     // the body is not valid UTF-8: Body is its base64
	Incomplete    bool        `json:"bodyIncomplete,omitempty"` // reading the body failed (timed out) after Body
}

// The headers recorded, and the text the test token is recorded as.
var (
	recordedRequestHeaders  = []string{"Authorization", "Content-Type"}
	recordedResponseHeaders = []string{"Allow", "Cache-Control", "Connection", "Content-Type", "Retry-After", "WWW-Authenticate", "X-Content-Type-Options"}
)

const recordedToken = "<token>"

func (m *exchangeMessage) setBody(b []byte) {
	m.Body = string(b)
	if !utf8.Valid(b) {
		m.Body, m.BodyBase64 = base64.StdEncoding.EncodeToString(b), true
	}
}

func recordedHeader(from http.Header, names []string) http.Header {
	h := http.Header{}
	for _, name := range names {
		for _, v := range from.Values(name) {
			h.Add(name, strings.ReplaceAll(v, testToken, recordedToken))
		}
	}
	return h
}

// exchangeLog records the exchanges of one top-level test and, when it
// ends, compares them with the test's entry in exchangesFile, or writes
// them there with -update.
type exchangeLog struct {
	mu   sync.Mutex
	list []*exchange
}

func recordExchanges(t *testing.T) *exchangeLog {
	l := &exchangeLog{}
	t.Cleanup(func() { l.check(t) })
	return l
}

// wrap returns h recording each exchange it serves under t's name. The
// part of a body h left unread is read when t ends, after the test has
// checked what h read.
func (l *exchangeLog) wrap(t *testing.T, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		length := r.ContentLength
		e := &exchange{Test: t.Name(), Request: exchangeMessage{Method: r.Method, Path: r.URL.Path,
			Header: recordedHeader(r.Header, recordedRequestHeaders), ContentLength: &length}}
		body, sent := r.Body, new(bytes.Buffer)
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(body, sent), body}
		c := &responseCapture{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(c, r)
		e.Response = exchangeMessage{Status: c.status, Header: recordedHeader(w.Header(), recordedResponseHeaders)}
		e.Response.setBody(c.body.Bytes())
		t.Cleanup(func() {
			_, err := io.Copy(sent, body)
			e.Request.Incomplete = err != nil
			e.Request.setBody(sent.Bytes())
		})
		l.mu.Lock()
		defer l.mu.Unlock()
		l.list = append(l.list, e)
	})
}

// check compares the exchanges recorded with exchangesFile, or writes them
// there. A run of some subtests only compares those it ran.
func (l *exchangeLog) check(t *testing.T) {
	partial := strings.Contains(flag.Lookup("test.run").Value.String(), "/") || flag.Lookup("test.skip").Value.String() != ""
	golden := map[string][]*exchange{}
	data, err := os.ReadFile(exchangesFile)
	switch {
	case err == nil:
		require.NoError(t, json.Unmarshal(data, &golden), exchangesFile)
	case !*update || !errors.Is(err, fs.ErrNotExist):
		require.NoError(t, err)
	}
	if *update {
		require.False(t, partial, "-update rewrites whole tests: run it without a subtest pattern or -skip")
		golden[t.Name()] = l.list
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		require.NoError(t, enc.Encode(golden))
		require.NoError(t, os.WriteFile(exchangesFile, out.Bytes(), 0o644))
		return
	}
	bySubtest := func(list []*exchange) map[string][]*exchange {
		m := map[string][]*exchange{}
		for _, e := range list {
			m[e.Test] = append(m[e.Test], e)
		}
		return m
	}
	want, got := bySubtest(golden[t.Name()]), bySubtest(l.list)
	const rerun = "if the change is intended, re-run go test ./taskcreate/taskhttp -run 'TestHandler|TestSweepHandler' -update"
	for name, exchanges := range got {
		assert.Equal(t, want[name], exchanges, "%s: the exchanges of %s differ from those recorded; %s", exchangesFile, name, rerun)
	}
	if !partial {
		for name := range want {
			assert.Contains(t, got, name, "%s: %s made no exchange; %s", exchangesFile, name, rerun)
		}
	}
}

// responseCapture keeps a copy of what a handler writes.
type responseCapture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *responseCapture) WriteHeader(status int) {
	c.status = status
	c.ResponseWriter.WriteHeader(status)
}

func (c *responseCapture) Write(p []byte) (int, error) {
	c.body.Write(p)
	return c.ResponseWriter.Write(p)
}
