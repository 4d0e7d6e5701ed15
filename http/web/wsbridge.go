package web

// Bridge from Fiber (fasthttp) to github.com/coder/websocket, which needs an
// http.Hijacker that Fiber's adaptor cannot give (fasthttp v1.51 answers 501;
// newer fasthttp never writes the 101 head). websocket.Accept gets our own
// ResponseWriter and the socket runs on the raw connection inside the handler.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/valyala/fasthttp"
)

// WebsocketOptions configures UpgradeWebsocket.
type WebsocketOptions struct {
	// OriginPatterns: extra allowed Origin hosts (AcceptOptions.OriginPatterns
	// syntax); the request's Host is always allowed. Origin is always checked.
	OriginPatterns []string
	// OriginScheme, when set, is the only scheme an Origin may have: Accept
	// compares hosts alone, so a page on https://host could otherwise open a
	// socket meant for http://host's pages, or the reverse. Take it from the
	// public base URL: behind a TLS proxy the request does not show it.
	OriginScheme    string
	CompressionMode websocket.CompressionMode
	ReadLimit       int64 // largest message; 0 = library default (32 KiB), -1 = none
}

// wsHandshakeTimeout bounds writing the 101 head. wsCloseGrace: how long a session
// may take to close after its ctx ends before the bridge drops the socket itself.
const wsHandshakeTimeout, wsCloseGrace = 10 * time.Second, 10 * time.Second

// UpgradeWebsocket returns a Fiber handler that upgrades the request and runs
// session(ctx, conn, req) for the lifetime of the socket; the handler (and its
// fasthttp worker) stays busy until session returns, then the socket is closed.
// req is a deep copy of the request (headers, cookies, URL), safe to keep and
// use from goroutines. ctx (also req.Context()) ends when baseCtx ends or the
// connection closes or fails. On ctx.Done a session should close conn itself,
// e.g. conn.Close(websocket.StatusGoingAway, ""); note that a conn.Read whose
// own ctx is cancelled drops the TCP connection without a close frame.
// Requests that are not websocket handshakes, or come from a foreign Origin,
// get Accept's error answer (426, 403, ...) as a normal Fiber response; an
// Origin of the wrong scheme gets fiber.ErrForbidden before Accept runs.
func UpgradeWebsocket(baseCtx context.Context, opts WebsocketOptions, session func(ctx context.Context, conn *websocket.Conn, req *http.Request)) fiber.Handler {
	aopts := &websocket.AcceptOptions{OriginPatterns: opts.OriginPatterns, CompressionMode: opts.CompressionMode}
	return func(c *fiber.Ctx) error {
		if baseCtx.Err() != nil { // shutting down: don't start sessions that would end at once
			return fiber.ErrServiceUnavailable
		}
		req, err := detachedRequest(c)
		if err != nil {
			return fiber.ErrBadRequest
		}
		if !originSchemeAllowed(req, opts.OriginScheme) {
			return fiber.ErrForbidden
		}
		ctx, cancel := context.WithCancel(baseCtx)
		defer cancel()
		req = req.WithContext(ctx)
		w := &upgradeWriter{fctx: c.Context(), header: http.Header{}, onClose: cancel}
		conn, err := websocket.Accept(w, req, aopts)
		if err != nil {
			return w.replay(c)
		}
		c.Status(http.StatusSwitchingProtocols) // for access logs only; nothing more is written
		if opts.ReadLimit != 0 {
			conn.SetReadLimit(opts.ReadLimit)
		}
		done := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			select {
			case <-done:
			case <-time.After(wsCloseGrace):
				_ = conn.CloseNow()
			}
		})
		defer func() { // also on panic: never leave the socket or its goroutines behind
			close(done)
			stop()
			_ = conn.CloseNow() // no-op if the session closed it; waits for conn's goroutines
		}()
		session(ctx, conn, req)
		return nil
	}
}

// upgradeWriter is the http.ResponseWriter handed to websocket.Accept. A
// refusal is buffered and replayed into Fiber's response; success goes
// through Hijack, which writes the 101 head to the raw connection.
type upgradeWriter struct {
	fctx     *fasthttp.RequestCtx
	header   http.Header
	status   int
	body     bytes.Buffer
	hijacked bool
	onClose  func()
}

func (w *upgradeWriter) Header() http.Header         { return w.header }
func (w *upgradeWriter) WriteHeader(code int)        { w.status = code }
func (w *upgradeWriter) Write(b []byte) (int, error) { return w.body.Write(b) }

// replay turns Accept's refusal (426, 403, ...) into a normal Fiber response.
func (w *upgradeWriter) replay(c *fiber.Ctx) error {
	if w.hijacked { // writing the 101 head failed: fasthttp just closes the socket
		return nil
	}
	for k, vs := range w.header {
		for _, v := range vs {
			c.Response().Header.Add(k, v)
		}
	}
	if w.status == 0 { // Accept always sets one; be safe
		w.status = http.StatusInternalServerError
	}
	return c.Status(w.status).Send(w.body.Bytes())
}

// Hijack writes the pending head itself and returns the raw connection.
func (w *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	raw := w.fctx.Conn()
	// A no-op hijack handler with no response: after the handler returns fasthttp
	// writes nothing, reads no further requests, and its hijack goroutine closes the fd.
	w.fctx.HijackSetNoResponse(true)
	w.fctx.Hijack(func(net.Conn) {})
	w.hijacked = true
	var head bytes.Buffer
	fmt.Fprintf(&head, "HTTP/1.1 %d %s\r\n", w.status, http.StatusText(w.status))
	_ = w.header.Write(&head) // a bytes.Buffer cannot fail
	head.WriteString("\r\n")
	if err := raw.SetWriteDeadline(time.Now().Add(wsHandshakeTimeout)); err != nil {
		return nil, nil, err
	}
	if _, err := raw.Write(head.Bytes()); err != nil {
		return nil, nil, err
	}
	// fasthttp armed a read deadline (ReadTimeout/IdleTimeout) before reading
	// this request, and a keep-alive connection still carries the previous
	// response's WriteTimeout deadline: either would kill an idle websocket.
	if err := raw.SetDeadline(time.Time{}); err != nil {
		return nil, nil, err
	}
	bc := &bridgeConn{Conn: raw, gone: w.onClose}
	return bc, bufio.NewReadWriter(bufio.NewReader(bc), bufio.NewWriter(bc)), nil
}

// bridgeConn is the connection coder/websocket owns. An I/O error means the peer is
// gone (coder/websocket does not close itself on a read EOF): end the session's ctx.
// Close must not close the fd: after the handler returns fasthttp calls SetWriteDeadline
// on it, which panics in v1.51 (WriteTimeout > 0) if it is closed. Expired deadlines
// unblock pending I/O like a close would; fasthttp closes the fd after the handler.
type bridgeConn struct {
	net.Conn
	gone func() // cancels the session's ctx; idempotent
}

func (bc *bridgeConn) Read(p []byte) (int, error)  { return bc.check(bc.Conn.Read(p)) }
func (bc *bridgeConn) Write(p []byte) (int, error) { return bc.check(bc.Conn.Write(p)) }

func (bc *bridgeConn) check(n int, err error) (int, error) {
	if err != nil {
		bc.gone()
	}
	return n, err
}

func (bc *bridgeConn) Close() error {
	_ = bc.Conn.SetDeadline(time.Unix(1, 0))
	bc.gone()
	return nil
}

// originSchemeAllowed reports whether the request's Origin, if it has one
// (browsers always send it on a websocket handshake), is of scheme; an empty
// scheme allows any.
func originSchemeAllowed(r *http.Request, scheme string) bool {
	origin := r.Header.Get("Origin")
	if scheme == "" || origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Scheme, scheme)
}

// detachedRequest converts the request and deep-copies it: ConvertRequest's
// strings alias fasthttp buffers that are reused once the handler returns,
// and the session may hand req to goroutines that outlive it.
func detachedRequest(c *fiber.Ctx) (*http.Request, error) {
	r, err := adaptor.ConvertRequest(c, true)
	if err != nil {
		return nil, err
	}
	uri := strings.Clone(r.RequestURI)
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, err
	}
	h := make(http.Header, len(r.Header))
	for k, vs := range r.Header {
		k = strings.Clone(k)
		for _, v := range vs {
			h[k] = append(h[k], strings.Clone(v))
		}
	}
	return &http.Request{
		Method: strings.Clone(r.Method), URL: u, RequestURI: uri,
		Proto: strings.Clone(r.Proto), ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		Header: h, Host: strings.Clone(r.Host), RemoteAddr: strings.Clone(r.RemoteAddr), TLS: r.TLS, Body: http.NoBody,
	}, nil
}
