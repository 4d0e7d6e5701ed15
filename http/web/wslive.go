package web

import (
	"context"
	"sync"
	"time"
)

// liveSockets is this node's open agent sockets. The first socket starts
// its re-check: every CheckEvery, the logins behind all open sockets are
// checked (and their expiry slid) in one query, and the sockets of logins
// that ended are closed as signed out. A logout, a password change or a
// disabled user closes sockets at once on every node (Store.EndSession,
// Store.EndUserSessions, through the hub); the re-check only catches a login
// that expired, or a notice this node missed. One query per node, not one
// per socket: an idle socket then never runs a query, holds no goroutine
// for it, and 10,000 sockets do not all hit the database at once.
type liveSockets struct {
	mu    sync.Mutex
	socks map[*socket]struct{}
	start sync.Once
}

func (s *Server) liveAdd(k *socket) {
	l := &s.live
	l.start.Do(func() { go s.recheckLogins(s.wsCtx, k.opts.CheckEvery) })
	l.mu.Lock()
	if l.socks == nil {
		l.socks = make(map[*socket]struct{})
	}
	l.socks[k] = struct{}{}
	l.mu.Unlock()
}

func (s *Server) liveRemove(k *socket) {
	s.live.mu.Lock()
	delete(s.live.socks, k)
	s.live.mu.Unlock()
}

// recheckLogins runs the re-check until ctx (the server's socket context)
// ends.
func (s *Server) recheckLogins(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.recheckOnce(ctx, every)
	}
}

// recheckOnce checks the logins of the open sockets once. A database error
// ends nothing: the next round tries again.
func (s *Server) recheckOnce(ctx context.Context, every time.Duration) {
	s.live.mu.Lock()
	bySession := make(map[int64][]*socket)
	for k := range s.live.socks {
		bySession[k.su.SessionID] = append(bySession[k.su.SessionID], k)
	}
	s.live.mu.Unlock()
	if len(bySession) == 0 {
		return
	}
	ids := make([]int64, 0, len(bySession))
	for id := range bySession {
		ids = append(ids, id)
	}
	qctx, cancel := context.WithTimeout(ctx, max(time.Second, every/2))
	defer cancel()
	live, err := s.store.LiveSessions(qctx, ids, s.cfg.SessionTTL)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("re-check socket logins", "sessions", len(ids), "err", err)
		}
		return
	}
	for _, id := range live {
		delete(bySession, id)
	}
	for _, socks := range bySession {
		for _, k := range socks {
			k.end(statusSignedOut, "signed out")
		}
	}
}
