package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/models"
)

// Socket tuning. Each says why.
const (
	// wsWriteTimeout: a socket that cannot take one frame in this long is dead or hopeless.
	wsWriteTimeout = 10 * time.Second
	// wsCheckEvery: how often a socket pings the browser, and how often the
	// node re-checks the logins of its sockets in one query (a logout, a
	// password change or a disabled user ends them at once, on every node:
	// this only catches an expired login, or a notice a node missed).
	wsCheckEvery = 30 * time.Second
	// wsPingTimeout: a browser that has not answered a ping in this long is
	// not reading (a frozen tab, a dead network path).
	wsPingTimeout = 10 * time.Second
	// wsCloseTimeout: how long a closing socket waits for the browser's
	// answering close frame (coder/websocket's own limit, which also caps it).
	wsCloseTimeout = 5 * time.Second
	// wsReadLimit: browsers send only small control messages.
	wsReadLimit = 4096
	// catchUpLimit: past this many missed events the browser reloads instead.
	catchUpLimit = 500
	// catchUpSlots bounds the catch-ups of sockets that fell behind, run at
	// once on a node: a burst that leaves many sockets behind costs a few
	// queries at a time, not one per socket at once.
	catchUpSlots = 4
	// statusSignedOut tells the browser to go to the login page (4000-4999
	// are application codes).
	statusSignedOut = websocket.StatusCode(4001)
)

// SocketOptions tunes the agents' live sockets (Deps.Socket). A zero field
// takes the default named in its comment.
type SocketOptions struct {
	// CheckEvery: a socket pings the browser every CheckEvery/2 to
	// CheckEvery (at random), and the node re-checks its sockets' logins
	// every CheckEvery (30s).
	CheckEvery time.Duration
	// PingTimeout bounds the wait for the browser's pong (10s).
	PingTimeout time.Duration
	// WriteTimeout bounds the write of one frame (10s).
	WriteTimeout time.Duration
	// CloseTimeout bounds the close handshake: past it the connection is
	// dropped (5s, also coder/websocket's own limit).
	CloseTimeout time.Duration
}

func (o SocketOptions) withDefaults() SocketOptions {
	if o.CheckEvery <= 0 {
		o.CheckEvery = wsCheckEvery
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = wsPingTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = wsWriteTimeout
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = wsCloseTimeout
	}
	return o
}

// clientMessage is what the browser sends: which thread it views, the last
// event it has seen (on connect), typing notices, and that it showed new
// messages of the thread it views (read).
type clientMessage struct {
	View *int64 `json:"view"`
	// Since is the sequence the viewed thread was rendered at.
	Since  int64  `json:"since"`
	Resume *int64 `json:"resume"`
	Typing int64  `json:"typing"`
	Read   int64  `json:"read"`
}

// ws upgrades an authenticated request to the live socket.
func (s *Server) ws(c *fiber.Ctx) error {
	su := sessionUser(c)
	if su == nil {
		return fiber.ErrUnauthorized
	}
	token := c.Cookies(sessionCookie)
	scheme, _, _ := strings.Cut(s.origin, "://") // the base URL's
	opts := WebsocketOptions{OriginPatterns: []string{s.originHost}, OriginScheme: scheme, ReadLimit: wsReadLimit}
	broadcast := broadcastParam(c) // a broadcast's page: its progress alone (ws_broadcast.go)
	return UpgradeWebsocket(s.wsCtx, opts,
		func(ctx context.Context, conn *websocket.Conn, _ *http.Request) {
			(&socket{s: s, opts: s.deps.Socket.withDefaults(), su: su, token: token, conn: conn, broadcast: broadcast}).run(ctx)
		})(c)
}

// socket is one agent's live connection. run owns it: it starts a writer,
// reads on its own goroutine, and returns only after the writer and any
// ping in flight have ended and the connection is closed, whichever way the
// socket ends. Pings run from a timer, not a goroutine of their own: an
// idle socket holds two goroutines (quality.md B4).
type socket struct {
	s     *Server
	opts  SocketOptions
	su    *models.SessionUser
	token string
	conn  *websocket.Conn
	sub   *hub.Subscriber
	// ctx ends when the socket is to close. Its cause is the *closeReason
	// first given to end, unless the bridge's context ended first.
	ctx  context.Context
	stop context.CancelCauseFunc
	// cancelRead cancels the pending read, which drops the connection: the
	// last resort of a close handshake the browser does not answer.
	cancelRead context.CancelFunc
	// viewing is the thread the browser shows (0: none). The reader sets
	// it; the writer reads it for a catch-up after falling behind.
	viewing atomic.Int64
	typedAt time.Time
	// broadcast is the broadcast whose page this socket serves (0: the
	// Chats screen); such a socket joins only its progress topic.
	broadcast int64

	// pingMu orders the ping timer's callbacks against the socket's end:
	// once run has stopped the timer under it, no ping starts.
	pingMu    sync.Mutex
	pingTimer *time.Timer
	pings     sync.WaitGroup
}

// closeReason is the close frame a socket ends with.
type closeReason struct {
	code websocket.StatusCode
	text string
}

func (r *closeReason) Error() string { return fmt.Sprintf("websocket close %d %q", r.code, r.text) }

func (k *socket) run(ctx context.Context) {
	s := k.s
	k.ctx, k.stop = context.WithCancelCause(ctx)
	defer k.stop(nil)
	k.sub = s.hub.NewSubscriber(hub.Member{UserID: k.su.User.ID, Name: k.su.User.Name, Session: k.su.SessionID}, 0)
	defer k.sub.Close()
	// The login was checked before the upgrade; a sign-out in between found
	// no subscriber to end. Now that EndSessions would find this one, check
	// again, so no socket outlives its login by a re-check period.
	if live, err := s.store.LiveSessions(k.ctx, []int64{k.su.SessionID}, s.cfg.SessionTTL); err != nil || len(live) == 0 {
		if err != nil {
			k.conn.Close(websocket.StatusInternalError, "try again")
		} else {
			k.conn.Close(statusSignedOut, "signed out")
		}
		return
	}
	if k.broadcast != 0 {
		if err := k.joinBroadcast(k.ctx); err != nil {
			k.conn.Close(websocket.StatusGoingAway, "going away")
			return
		}
	} else if !k.joinFeeds() {
		return
	}
	// Reads have a context of their own: cancelling a read drops the TCP
	// connection without a close frame, so only closeConn does, once its
	// close frame is out.
	readCtx, cancelRead := context.WithCancel(context.Background())
	defer cancelRead()
	k.cancelRead = cancelRead
	s.liveAdd(k)
	defer s.liveRemove(k)
	var wg sync.WaitGroup
	wg.Go(k.write)
	k.pingMu.Lock()
	k.pingTimer = time.AfterFunc(k.pingDelay(), k.ping)
	k.pingMu.Unlock()
	k.read(readCtx)
	// The browser closed, vanished or broke the protocol (coder/websocket
	// has then answered it), or the writer closed the connection.
	k.end(websocket.StatusNormalClosure, "")
	k.pingMu.Lock()
	k.pingTimer.Stop()
	k.pingMu.Unlock()
	k.pings.Wait()
	wg.Wait()
}

// joinFeeds subscribes a Chats screen's socket to the feeds of the
// inboxes its user may see and to the credits notices; on a failure it
// closes the connection and reports false.
func (k *socket) joinFeeds() bool {
	inboxes, err := k.s.visibleInboxIDs(k.ctx, k.su.Scope)
	if err != nil {
		k.conn.Close(websocket.StatusInternalError, "try again")
		return false
	}
	for _, id := range inboxes {
		if err := k.s.hub.Join(k.ctx, inboxTopic(id), k.sub); err != nil {
			k.conn.Close(websocket.StatusGoingAway, "going away")
			return false
		}
	}
	if err := k.joinCredits(k.ctx); err != nil {
		k.conn.Close(websocket.StatusGoingAway, "going away")
		return false
	}
	return true
}

// read handles the browser's messages until the connection closes.
func (k *socket) read(ctx context.Context) {
	for {
		_, data, err := k.conn.Read(ctx)
		if err != nil {
			return
		}
		var m clientMessage
		if json.Unmarshal(data, &m) != nil {
			continue // a malformed control message is ignored, not fatal
		}
		k.handle(k.ctx, m)
	}
}

// end starts closing the socket with code and text, unless an earlier
// reason has.
func (k *socket) end(code websocket.StatusCode, text string) {
	k.stop(&closeReason{code: code, text: text})
}

// reason is why the socket ends: the first reason given to end, else
// (the bridge ended the socket's context) the server's shutdown or a
// connection that failed, which no close frame will reach.
func (k *socket) reason() closeReason {
	var r *closeReason
	switch {
	case errors.As(context.Cause(k.ctx), &r):
		return *r
	case k.s.wsCtx.Err() != nil:
		return closeReason{websocket.StatusGoingAway, "going away"}
	default:
		return closeReason{websocket.StatusNormalClosure, "connection lost"}
	}
}

// subscriberClose is the close for a subscriber the hub has ended.
func subscriberClose(err error) (websocket.StatusCode, string) {
	switch {
	case errors.Is(err, hub.ErrTooSlow):
		return websocket.StatusPolicyViolation, "too slow"
	case errors.Is(err, hub.ErrShutdown):
		return websocket.StatusGoingAway, "going away"
	case errors.Is(err, hub.ErrSignedOut):
		return statusSignedOut, "signed out"
	default:
		return websocket.StatusNormalClosure, ""
	}
}

// write sends the hub's frames, coalesced, until the socket is to close,
// and then closes it. The close is the writer's so that the close frame
// follows the frame in flight: sent from another goroutine, it would wait
// behind a stalled frame only for coder/websocket's fixed 5 s and then drop
// the connection bare, though the frame had WriteTimeout to go.
func (k *socket) write() {
	defer k.closeConn()
	for {
		frame, err := k.sub.Next(k.ctx)
		if errors.Is(err, hub.ErrLagging) {
			if !k.resync() {
				return
			}
			continue
		}
		if err != nil {
			k.end(subscriberClose(err)) // a no-op if the socket was ending already
			return
		}
		if k.ctx.Err() != nil {
			return // ending (signed out, say): nothing more goes out
		}
		// The deadline is the write's own: ending the socket lets the frame
		// in flight finish, and a write past it drops the connection.
		wctx, cancel := context.WithTimeout(context.Background(), k.opts.WriteTimeout)
		err = k.conn.Write(wctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			k.end(websocket.StatusPolicyViolation, "too slow")
			return
		}
	}
}

// resync catches the browser up after the hub skipped frames for it (it
// fell behind, see hub.Subscriber): what the socket missed comes from the
// database, as after a reconnect but without one, and past catchUpLimit
// events the browser reloads. Catch-ups of sockets that fell behind
// together take turns (catchUpSlots per node), so a burst does not turn
// into as many simultaneous queries; a socket waiting for its turn goes on
// skipping frames (its lag lasts until then, counted once). It reports
// whether the socket goes on.
func (k *socket) resync() bool {
	// Frames are skipped until the catch-up's turn, then queue again.
	select {
	case k.s.catchUps <- struct{}{}:
	case <-k.ctx.Done():
		return false
	}
	lag := k.sub.Resume()
	k.s.log.Debug("socket fell behind", "user_id", k.su.User.ID, "since", lag.Since, "skipped", lag.Skipped)
	var frame []byte
	var err error
	if lag.Since >= 0 { // else nothing the database holds was skipped
		frame, err = k.s.catchUpFrame(k.ctx, k.su.Scope, lag.Since, k.viewing.Load())
	}
	<-k.s.catchUps
	if err != nil {
		if k.ctx.Err() == nil {
			k.s.log.Warn("catch up after falling behind", "user_id", k.su.User.ID, "err", err)
			// The browser cannot be told what it missed: reconnecting
			// makes it ask (1008: it comes back and catches up).
			k.end(websocket.StatusPolicyViolation, "too slow")
		}
		return false
	}
	if len(frame) == 0 {
		return true
	}
	wctx, cancel := context.WithTimeout(context.Background(), k.opts.WriteTimeout)
	defer cancel()
	if k.conn.Write(wctx, websocket.MessageText, frame) != nil {
		k.end(websocket.StatusPolicyViolation, "too slow")
		return false
	}
	return true
}

// closeConn sends the close frame and waits for the browser's answer, for at
// most CloseTimeout; then it drops the connection under the pending read.
func (k *socket) closeConn() {
	r := k.reason()
	t := time.AfterFunc(k.opts.CloseTimeout, k.cancelRead)
	defer t.Stop()
	err := k.conn.Close(r.code, r.text)
	k.s.log.Debug("socket closed", "user_id", k.su.User.ID, "code", int(r.code), "reason", r.text, "err", err)
}

// pingDelay is the wait before the next ping: between half of CheckEvery and
// CheckEvery, at random. Sockets that connected together (a node restart,
// a load test) would otherwise ping together for ever: 10,000 ping
// goroutines at once, whose stacks the process keeps (quality.md B4).
func (k *socket) pingDelay() time.Duration {
	half := k.opts.CheckEvery / 2
	return half + rand.N(k.opts.CheckEvery-half+1)
}

// ping pings the browser, and arms the next ping once the pong is in. It
// runs on the ping timer's goroutine, which lives only as long as the ping.
// A browser that does not answer within PingTimeout is not reading (a
// frozen tab, a dead network path): the socket ends.
func (k *socket) ping() {
	k.pingMu.Lock()
	if k.ctx.Err() != nil {
		k.pingMu.Unlock()
		return // ending: run has stopped the timer or is about to
	}
	k.pings.Add(1)
	k.pingMu.Unlock()
	defer k.pings.Done()
	// The ping's deadline is its own: cancelled while its frame is being
	// written, it would drop the connection under the close frame.
	pctx, cancel := context.WithTimeout(context.Background(), k.opts.PingTimeout)
	err := k.conn.Ping(pctx)
	cancel()
	if err != nil {
		// The hub may have dropped the subscriber while this ping waited
		// behind a stalled write: if so, that names the close.
		if serr := k.sub.Err(); serr != nil {
			k.end(subscriberClose(serr))
		} else {
			k.end(websocket.StatusPolicyViolation, "ping timeout")
		}
		return
	}
	k.pingMu.Lock()
	if k.ctx.Err() == nil {
		k.pingTimer.Reset(k.pingDelay())
	}
	k.pingMu.Unlock()
}

// handle acts on one browser message.
func (k *socket) handle(ctx context.Context, m clientMessage) {
	if k.sub.Err() != nil || k.broadcast != 0 {
		return // ended (signed out, too slow): the writer is closing the socket; or a broadcast's page, which only listens
	}
	if m.View != nil {
		k.view(ctx, *m.View, m.Since)
	}
	if m.Resume != nil {
		k.catchUp(ctx, *m.Resume)
	}
	if m.Typing != 0 && m.Typing == k.viewing.Load() && time.Since(k.typedAt) > 2*time.Second {
		k.typedAt = time.Now()
		k.s.publishTyping(ctx, k.su, m.Typing)
	}
	if m.Read != 0 && m.Read == k.viewing.Load() {
		k.markRead(ctx, m.Read)
	}
}

// markRead clears the unread count of the thread this socket views: its
// agent has the new messages on screen. Only the viewed thread, which the
// socket joined after a scope check.
func (k *socket) markRead(ctx context.Context, id int64) {
	ch, err := k.s.store.MarkRead(ctx, k.su.Scope, id)
	if err != nil {
		if ctx.Err() == nil {
			k.s.log.Warn("mark read", "user_id", k.su.User.ID, "conversation", id, "err", err)
		}
		return
	}
	k.s.publish(ch)
}

// view moves the socket's thread subscription; a conversation the user
// may not see is silently not joined (R9: no event, no confirmation).
func (k *socket) view(ctx context.Context, id, since int64) {
	viewing := k.viewing.Load()
	if id == viewing {
		return
	}
	if viewing != 0 {
		k.s.hub.Leave(ctx, convTopic(viewing), k.sub)
		k.viewing.Store(0)
	}
	if id <= 0 {
		return
	}
	if _, err := k.s.store.ConversationByID(ctx, k.su.Scope, id); err != nil {
		return
	}
	if k.s.hub.Join(ctx, convTopic(id), k.sub) != nil {
		return
	}
	k.viewing.Store(id)
	// What happened between the thread's render and this join.
	if since > 0 {
		frame, err := k.s.threadCatchUp(ctx, k.su.Scope, id, since)
		if err == nil && len(frame) > 0 {
			k.writeNow(frame)
		}
	}
}

// writeNow sends a frame outside the hub (catch-up), with the writer's
// deadline, unless the socket is ending.
func (k *socket) writeNow(frame []byte) {
	if k.ctx.Err() != nil {
		return
	}
	wctx, cancel := context.WithTimeout(context.Background(), k.opts.WriteTimeout)
	defer cancel()
	if k.conn.Write(wctx, websocket.MessageText, frame) != nil {
		k.end(websocket.StatusPolicyViolation, "too slow")
	}
}

// catchUp sends what the browser missed since seq, from the database.
func (k *socket) catchUp(ctx context.Context, seq int64) {
	frame, err := k.s.catchUpFrame(ctx, k.su.Scope, seq, k.viewing.Load())
	if err != nil && ctx.Err() == nil {
		k.s.log.Warn("catch up", "user_id", k.su.User.ID, "err", err)
		return
	}
	if len(frame) > 0 {
		k.writeNow(frame)
	}
}

// visibleInboxIDs lists the inboxes whose feeds a scope may join.
func (s *Server) visibleInboxIDs(ctx context.Context, sc models.Scope) ([]int64, error) {
	locs, err := s.store.Locations(ctx, sc)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, l := range locs {
		for _, in := range l.Inboxes {
			ids = append(ids, in.ID)
		}
	}
	return ids, nil
}
