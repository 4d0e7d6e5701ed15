package smtpd

import (
	"net"
	"sync"
	"time"
)

// limitListener refuses connections past max open ones with 421, so a
// flood of idle clients cannot hold unbounded goroutines and buffers. It
// keeps the open ones, so a shutdown whose grace ran out can close them
// (go-smtp's Close after its Shutdown does not).
type limitListener struct {
	net.Listener
	sem   chan struct{}
	mu    sync.Mutex
	conns map[*limitConn]struct{}
}

func newLimitListener(l net.Listener, max int) *limitListener {
	return &limitListener{Listener: l, sem: make(chan struct{}, max), conns: map[*limitConn]struct{}{}}
}

// Accept returns the next connection within the limit; one past it is
// answered 421 and closed.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			lc := &limitConn{Conn: c, l: l}
			l.mu.Lock()
			l.conns[lc] = struct{}{}
			l.mu.Unlock()
			return lc, nil
		default:
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("421 4.3.2 Too many connections, try again later\r\n"))
			_ = c.Close()
		}
	}
}

// closeConns closes every open connection.
func (l *limitListener) closeConns() {
	l.mu.Lock()
	conns := make([]*limitConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// limitConn gives its place back once, when first closed (the server's
// Close and the session's end may both close it).
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
		<-c.l.sem
	})
	return c.Conn.Close()
}
