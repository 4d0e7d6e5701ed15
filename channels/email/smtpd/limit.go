package smtpd

import (
	"net"
	"sync"
	"time"
)

// limitListener refuses connections past max open ones with 421, so a
// flood of idle clients cannot hold unbounded goroutines and buffers.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func newLimitListener(l net.Listener, max int) *limitListener {
	return &limitListener{Listener: l, sem: make(chan struct{}, max)}
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
			return &limitConn{Conn: c, sem: l.sem}, nil
		default:
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("421 4.3.2 Too many connections, try again later\r\n"))
			_ = c.Close()
		}
	}
}

// limitConn gives its place back once, when first closed (the server's
// Close and the session's end may both close it).
type limitConn struct {
	net.Conn
	sem  chan struct{}
	once sync.Once
}

func (c *limitConn) Close() error {
	c.once.Do(func() { <-c.sem })
	return c.Conn.Close()
}
