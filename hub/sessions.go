package hub

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrSignedOut ends the subscribers of a login that ended (EndSessions):
// logout, a password change, a disabled user. Close their sockets with a
// "signed out" reason that sends the browser to the login page instead of
// reconnecting.
var ErrSignedOut = errors.New("hub: signed out")

// endSessionsTopic is the reserved topic that carries EndSessions to the
// other nodes. No room ever serves it (Publish refuses it), and a node that
// predates it delivers it to no one.
const endSessionsTopic = "\x00hub:end-sessions"

// EndSessions ends, on this node at once and on every other node through the
// broker, the subscribers of userID whose Member.Session is sessionID, or
// all of userID's subscribers when sessionID is 0, with ErrSignedOut. It
// returns how many it ended on this node. It never waits on a socket; the
// other nodes are told as best-effort as any event (a node cut off from the
// broker must notice by itself, e.g. by re-checking its logins).
func (h *Hub) EndSessions(ctx context.Context, userID, sessionID int64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("hub: end sessions: %w", err)
	}
	n := h.endSessionsLocal(userID, sessionID)
	if h.relay != nil {
		h.relay.enqueue(Event{Topic: endSessionsTopic, Frame: encodeEndSessions(userID, sessionID)})
	}
	return n, nil
}

// endSessionsLocal ends this node's matching subscribers.
func (h *Hub) endSessionsLocal(userID, sessionID int64) int {
	var match []*Subscriber
	h.subsMu.Lock()
	for s := range h.subs {
		if s.member.UserID == userID && (sessionID == 0 || s.member.Session == sessionID) {
			match = append(match, s)
		}
	}
	h.subsMu.Unlock()
	n := 0
	for _, s := range match {
		if s.end(ErrSignedOut) {
			n++
			h.spawn(func() { s.leaveAll("") })
		}
	}
	return n
}

func encodeEndSessions(userID, sessionID int64) []byte {
	b := binary.AppendVarint(nil, userID)
	return binary.AppendVarint(b, sessionID)
}

func decodeEndSessions(b []byte) (userID, sessionID int64, err error) {
	userID, n := binary.Varint(b)
	if n <= 0 {
		return 0, 0, fmt.Errorf("%w: end-sessions user", errBadPayload)
	}
	sessionID, m := binary.Varint(b[n:])
	if m <= 0 || n+m != len(b) {
		return 0, 0, fmt.Errorf("%w: end-sessions session", errBadPayload)
	}
	return userID, sessionID, nil
}
