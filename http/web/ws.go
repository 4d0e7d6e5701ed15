package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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
	// wsCheckEvery: how often a socket re-checks its login (logout and
	// password changes end sockets within this) and pings the browser.
	wsCheckEvery = 30 * time.Second
	// wsPingTimeout: a browser that has not answered a ping in this long is
	// not reading (a frozen tab, a dead network path).
	wsPingTimeout = 10 * time.Second
	// wsReadLimit: browsers send only small control messages.
	wsReadLimit = 4096
	// catchUpLimit: past this many missed events the browser reloads instead.
	catchUpLimit = 500
	// statusSignedOut tells the browser to go to the login page (4000-4999
	// are application codes).
	statusSignedOut = websocket.StatusCode(4001)
)

// SocketOptions tunes the agents' live sockets (Deps.Socket). A zero field
// takes the default named in its comment.
type SocketOptions struct {
	// CheckEvery is how often a socket re-checks its login and pings the
	// browser (30s).
	CheckEvery time.Duration
	// PingTimeout bounds the wait for the browser's pong (10s).
	PingTimeout time.Duration
	// WriteTimeout bounds the write of one frame (10s).
	WriteTimeout time.Duration
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
	return o
}

// clientMessage is what the browser sends: which thread it views, the last
// event it has seen (on connect), and typing notices.
type clientMessage struct {
	View *int64 `json:"view"`
	// Since is the sequence the viewed thread was rendered at.
	Since  int64  `json:"since"`
	Resume *int64 `json:"resume"`
	Typing int64  `json:"typing"`
}

// ws upgrades an authenticated request to the live socket.
func (s *Server) ws(c *fiber.Ctx) error {
	su := sessionUser(c)
	if su == nil {
		return fiber.ErrUnauthorized
	}
	token := c.Cookies(sessionCookie)
	return UpgradeWebsocket(s.wsCtx, WebsocketOptions{OriginPatterns: []string{s.originHost}, ReadLimit: wsReadLimit},
		func(ctx context.Context, conn *websocket.Conn, _ *http.Request) {
			(&socket{s: s, opts: s.deps.Socket.withDefaults(), su: su, token: token, conn: conn}).run(ctx)
		})(c)
}

// socket is one agent's live connection.
type socket struct {
	s       *Server
	opts    SocketOptions
	su      *models.SessionUser
	token   string
	conn    *websocket.Conn
	sub     *hub.Subscriber
	viewing int64
	typedAt time.Time
}

func (k *socket) run(ctx context.Context) {
	s := k.s
	k.sub = s.hub.NewSubscriber(hub.Member{UserID: k.su.User.ID, Name: k.su.User.Name}, 0)
	defer k.sub.Close()
	inboxes, err := s.visibleInboxIDs(ctx, k.su.Scope)
	if err != nil {
		k.conn.Close(websocket.StatusInternalError, "try again")
		return
	}
	for _, id := range inboxes {
		if err := s.hub.Join(ctx, inboxTopic(id), k.sub); err != nil {
			k.conn.Close(websocket.StatusGoingAway, "going away")
			return
		}
	}
	go k.write(ctx)
	go k.watch(ctx)
	// Reads use their own context: cancelling a read's context makes
	// coder/websocket drop the TCP connection without a close frame.
	for {
		_, data, err := k.conn.Read(context.Background())
		if err != nil {
			return
		}
		var m clientMessage
		if json.Unmarshal(data, &m) != nil {
			continue // a malformed control message is ignored, not fatal
		}
		k.handle(ctx, m)
	}
}

// write sends hub frames, coalesced, until the subscriber ends.
func (k *socket) write(ctx context.Context) {
	for {
		frame, err := k.sub.Next(ctx)
		if err != nil {
			return
		}
		wctx, cancel := context.WithTimeout(ctx, k.opts.WriteTimeout)
		err = k.conn.Write(wctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			k.sub.Close()
			return
		}
	}
}

// watch closes the socket with the right reason when its subscriber ends
// or the server stops, and re-checks the login and the peer periodically.
func (k *socket) watch(ctx context.Context) {
	t := time.NewTicker(k.opts.CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			k.conn.Close(websocket.StatusGoingAway, "going away")
			return
		case <-k.sub.Done():
			switch err := k.sub.Err(); {
			case errors.Is(err, hub.ErrTooSlow):
				k.conn.Close(websocket.StatusPolicyViolation, "too slow")
			case errors.Is(err, hub.ErrShutdown):
				k.conn.Close(websocket.StatusGoingAway, "going away")
			default:
				k.conn.Close(websocket.StatusNormalClosure, "")
			}
			return
		case <-t.C:
			if _, err := k.s.store.SessionByToken(ctx, k.token, k.s.cfg.SessionTTL); errors.Is(err, models.ErrNotFound) {
				k.conn.Close(statusSignedOut, "signed out")
				return
			}
			pctx, cancel := context.WithTimeout(ctx, k.opts.PingTimeout)
			err := k.conn.Ping(pctx)
			cancel()
			if err != nil {
				k.sub.Close()
				return
			}
		}
	}
}

// handle acts on one browser message.
func (k *socket) handle(ctx context.Context, m clientMessage) {
	if m.View != nil {
		k.view(ctx, *m.View, m.Since)
	}
	if m.Resume != nil {
		k.catchUp(ctx, *m.Resume)
	}
	if m.Typing != 0 && m.Typing == k.viewing && time.Since(k.typedAt) > 2*time.Second {
		k.typedAt = time.Now()
		k.s.publishTyping(ctx, k.su, m.Typing)
	}
}

// view moves the socket's thread subscription; a conversation the user
// may not see is silently not joined (R9: no event, no confirmation).
func (k *socket) view(ctx context.Context, id, since int64) {
	if id == k.viewing {
		return
	}
	if k.viewing != 0 {
		k.s.hub.Leave(ctx, convTopic(k.viewing), k.sub)
		k.viewing = 0
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
	k.viewing = id
	// What happened between the thread's render and this join.
	if since > 0 {
		frame, err := k.s.threadCatchUp(ctx, k.su.Scope, id, since)
		if err == nil && len(frame) > 0 {
			k.writeNow(ctx, frame)
		}
	}
}

// writeNow sends a frame outside the hub (catch-up), with a deadline.
func (k *socket) writeNow(ctx context.Context, frame []byte) {
	wctx, cancel := context.WithTimeout(ctx, k.opts.WriteTimeout)
	defer cancel()
	if k.conn.Write(wctx, websocket.MessageText, frame) != nil {
		k.sub.Close()
	}
}

// catchUp sends what the browser missed since seq, from the database.
func (k *socket) catchUp(ctx context.Context, seq int64) {
	frame, err := k.s.catchUpFrame(ctx, k.su.Scope, seq, k.viewing)
	if err != nil {
		k.s.log.Warn("catch up", "user_id", k.su.User.ID, "err", err)
		return
	}
	if len(frame) > 0 {
		k.writeNow(ctx, frame)
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
