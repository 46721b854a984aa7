package postgres_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"
)

// pgProxy forwards PostgreSQL sessions to a server and, when armed, breaks
// the next traffic that matches its fault. A test behind it sees what a
// client sees when the network fails at that point, while the server's
// side of the story stays readable through a direct connection. It reads
// the protocol's framing, so faults fall on exact bytes and statements.
type pgProxy struct {
	ln     net.Listener
	target string
	// marker limits the COMMIT faults to transactions that mention it (a
	// test's schema): other clients of a shared server may come through
	// the proxy too. "": every transaction.
	marker string
	wg     sync.WaitGroup
	ctx    context.Context // cancelled when the test ends, closing every session
	stop   context.CancelFunc

	mu    sync.Mutex
	fault *proxyFault    // nil: forward everything
	fired bool           // the last armed fault struck
	sent  [2]int64       // bytes forwarded, by direction
	ends  map[string]int // statements ending marked transactions, up to any literal
}

type direction int

const (
	toServer direction = iota
	toClient
)

type faultKind int

const (
	cutBytes         faultKind = iota // close both sides after a number of bytes
	dropCommit                        // close both sides instead of forwarding a COMMIT
	loseCommitAnswer                  // forward a COMMIT, close both sides once the server has answered it
)

// proxyFault is one fault: it strikes once, on any session, then disarms.
type proxyFault struct {
	kind  faultKind
	dir   direction // cutBytes: the direction whose bytes are counted
	after int64     // cutBytes: bytes still forwarded before the cut
}

// startProxy listens on a free local port and forwards to target until the
// test ends.
func startProxy(t testing.TB, target, marker string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &pgProxy{ln: ln, target: target, marker: marker, ends: map[string]int{}}
	p.ctx, p.stop = context.WithCancel(context.Background())
	t.Cleanup(p.close)
	p.wg.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.serve(client) })
		}
	})
	return p
}

// arm sets the fault the next matching traffic meets (nil: none), and
// reports whether the one it replaces struck: arming nil after a call
// keeps a fault that did not strike from falling on later traffic.
func (p *pgProxy) arm(f *proxyFault) (fired bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fired, p.fault, p.fired = p.fired, nil, false
	if f != nil {
		armed := *f // counted down as traffic passes
		p.fault = &armed
	}
	return fired
}

// stats returns the bytes forwarded so far in each direction, and the
// statements that ended marked transactions, with how often.
func (p *pgProxy) stats() (sent [2]int64, ends map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent, maps.Clone(p.ends)
}

func (p *pgProxy) close() {
	p.ln.Close()
	p.stop()
	p.wg.Wait()
}

// proxyConn is one session: the client's connection and the server's.
type proxyConn struct {
	p              *pgProxy
	client, server net.Conn
	// Guarded by p.mu: the open transaction mentioned the marker, and the
	// answer to a COMMIT is being withheld.
	marked, swallow bool
}

func (c *proxyConn) close() {
	c.client.Close()
	c.server.Close()
}

func (p *pgProxy) serve(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	c := &proxyConn{p: p, client: client, server: server}
	defer c.close()
	defer context.AfterFunc(p.ctx, c.close)()

	// A session opens with an untyped message: a StartupMessage, whose
	// protocol version (3.0 is 196608) is where an SSL, GSS or cancel
	// request has its code. Those start sessions the proxy cannot or need
	// not read: their bytes pass untouched and are never faulted.
	cr, sr := bufio.NewReader(client), bufio.NewReader(server)
	msg, err := readMessage(cr, 4)
	if err != nil || len(msg) < 8 || c.forward(toServer, msg) != nil {
		return
	}
	code := binary.BigEndian.Uint32(msg[4:8])
	plain := code < 80877102 || code > 80877104
	// Either direction ending ends the session, as a real connection would.
	var half sync.WaitGroup
	half.Go(func() {
		defer c.close()
		c.pump(sr, toClient, plain)
	})
	c.pump(cr, toServer, plain)
	c.close()
	half.Wait()
}

// pump forwards the typed messages of one direction, or the bytes of a
// session that is not plain, and applies the COMMIT faults, since a
// COMMIT is where an outcome becomes unknown.
func (c *proxyConn) pump(r *bufio.Reader, dir direction, plain bool) {
	p := c.p
	if !plain {
		_, _ = io.Copy([]net.Conn{c.server, c.client}[dir], r)
		return
	}
	for {
		msg, err := readMessage(r, 5)
		if err != nil {
			return
		}
		p.mu.Lock()
		if dir == toServer {
			c.marked = c.marked || bytes.Contains(msg, []byte(p.marker))
			if stmt := endsTransaction(msg); stmt != "" {
				if c.marked {
					p.ends[stmt]++
				}
				commit := stmt == "COMMIT" || stmt == "END" || stmt == "COMMIT PREPARED"
				if f := p.fault; f != nil && f.kind != cutBytes && c.marked && commit {
					p.fault, p.fired = nil, true
					if f.kind == dropCommit {
						p.mu.Unlock()
						return // the caller closes both sides: the COMMIT never arrives
					}
					c.swallow = true
				}
				// The second phase of a prepared transaction belongs to it.
				c.marked = c.marked && stmt == "PREPARE TRANSACTION"
			}
		}
		swallowing := dir == toClient && c.swallow
		p.mu.Unlock()
		if swallowing {
			// The client waits for ReadyForQuery; once the server has sent
			// it, the commit is over, and the client never learns how.
			if msg[0] == 'Z' {
				return
			}
			continue
		}
		if c.forward(dir, msg) != nil {
			return
		}
	}
}

// forward writes msg on in direction dir, unless an armed cut ends within
// it: then only the bytes before the cut go, and both sides close.
func (c *proxyConn) forward(dir direction, msg []byte) error {
	p := c.p
	n, cut := int64(len(msg)), false
	p.mu.Lock()
	if f := p.fault; f != nil && f.kind == cutBytes && f.dir == dir {
		if f.after < n {
			n, cut = f.after, true
			p.fault, p.fired = nil, true
		} else {
			f.after -= n
		}
	}
	p.sent[dir] += n
	p.mu.Unlock()
	if _, err := []net.Conn{c.server, c.client}[dir].Write(msg[:n]); err != nil {
		return err
	}
	if cut {
		c.close()
		return net.ErrClosed
	}
	return nil
}

// readMessage reads one whole message: a head of 5 bytes, a type and an
// int32 length counting itself and the payload, or of 4 for the untyped
// messages that open a session.
func readMessage(r *bufio.Reader, head int) ([]byte, error) {
	msg := make([]byte, head)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(msg[head-4:]))
	if n < 4 || n > 1<<30 {
		return nil, fmt.Errorf("proxy: message length %d", n)
	}
	msg = append(msg, make([]byte, n-4)...)
	_, err := io.ReadFull(r, msg[head:])
	return msg, err
}

// endsTransaction returns the statement of a simple Query or a Parse,
// upper-cased up to its first literal (a prepared transaction's name), when
// it commits, rolls back or prepares a transaction, else "".
func endsTransaction(msg []byte) string {
	text := msg[5:]
	switch msg[0] {
	case 'Q':
	case 'P': // the statement's name, then its text
		_, text, _ = bytes.Cut(text, []byte{0})
	default:
		return ""
	}
	text, _, _ = bytes.Cut(text, []byte{0})
	text, _, _ = bytes.Cut(text, []byte{'\''})
	stmt := strings.ToUpper(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(string(text)), ";")))
	for _, word := range []string{"COMMIT", "END", "ROLLBACK", "ABORT", "PREPARE TRANSACTION"} {
		if stmt == word || strings.HasPrefix(stmt, word+" ") {
			return stmt
		}
	}
	return ""
}
