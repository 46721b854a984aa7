package taskhttp

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// inFlight counts the request bytes a handler holds against its bound. It
// never blocks: a request that does not fit is refused at once, since
// queueing it would hold its connection and its memory all the same.
type inFlight struct {
	max  int64
	used atomic.Int64
}

// acquire takes n bytes if they fit and reports whether they did.
func (f *inFlight) acquire(n int64) bool {
	for {
		used := f.used.Load()
		if n > f.max-used { // not used+n > max, which could overflow
			return false
		}
		if f.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

func (f *inFlight) release(n int64) { f.used.Add(-n) }

// admittedBody is a request body whose bytes are held in the handler's
// inFlight: those its Content-Length announces from admission, any others
// (a chunked body) as they arrive, all until release.
type admittedBody struct {
	budget *inFlight
	r      io.Reader // the body, once admitted
	held   int64     // bytes taken from budget
	read   int64
	eof    bool // the body was read to its end
}

// admit takes the bytes r's Content-Length announces, if any. If they do
// not fit, it returns the error of a 429, and the body is left unread.
func (b *admittedBody) admit(r *http.Request) error {
	if r.ContentLength <= 0 {
		return nil
	}
	if !b.budget.acquire(r.ContentLength) {
		return b.noRoom(r.ContentLength)
	}
	b.held = r.ContentLength
	return nil
}

func (b *admittedBody) Read(p []byte) (int, error) {
	// No more than one byte past what is held and free, so that a body that
	// does not fit is refused having read little past the bound.
	if room := b.held - b.read + b.budget.max - b.budget.used.Load(); int64(len(p)) > room+1 {
		p = p[:max(room+1, 1)]
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	if more := b.read - b.held; more > 0 {
		if !b.budget.acquire(more) {
			// The bytes read are not handed on: nothing is decoded past the
			// bound. The server closes the connection on the rest.
			return 0, b.noRoom(more)
		}
		b.held += more
	}
	b.eof = b.eof || err == io.EOF
	return n, err
}

// maxDrainedBytes is how much of a body a handler left unread net/http
// reads to reuse the connection (its maxPostHandlerReadBytes).
const maxDrainedBytes = 256 << 10

// closeIfUnread has net/http close the connection gracefully (a FIN, then a
// pause before the reset the unread rest causes) after an answer given with
// much of the body unread: it would close at once when the request said
// Connection: close, and the client could lose the answer. MaxBytesReader
// past its limit is a handler's one way to ask for it.
func (b *admittedBody) closeIfUnread(w http.ResponseWriter, r *http.Request) {
	if b.eof || r.ContentLength >= 0 && r.ContentLength-b.read <= maxDrainedBytes {
		return
	}
	_, _ = http.MaxBytesReader(w, io.NopCloser(strings.NewReader(" ")), 0).Read(make([]byte, 1))
}

// release gives back every byte held; the body is not read again.
func (b *admittedBody) release() {
	b.budget.release(b.held)
	b.held = 0
}

func (b *admittedBody) noRoom(n int64) error {
	return fmt.Errorf("%w: %d more request bytes do not fit in Options.MaxInFlightBytes (%d), %d in flight",
		ErrTooManyRequests, n, b.budget.max, b.budget.used.Load())
}
