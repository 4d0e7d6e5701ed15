package web

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/views"
)

// PresenceChanged is the hub's OnPresence callback: when who views a
// conversation changes, the thread and the list row show it. Presence is
// per node (the hub's Members are this node's sockets).
func (s *Server) PresenceChanged(topic string, members []hub.Member) {
	idText, ok := strings.CutPrefix(topic, "conv:")
	if !ok {
		return
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	inboxID, err := s.store.ConversationInboxID(ctx, id)
	if err != nil {
		return
	}
	f := views.ViewersFrame{ConvID: id}
	for _, m := range members {
		f.Viewers = append(f.Viewers, views.Viewer{UserID: m.UserID, Name: m.Name})
	}
	// The list row's avatars go to the inbox feed, the thread header's to
	// the thread: each screen only gets targets it has.
	for _, fr := range []struct{ name, topic string }{
		{"frame-viewers-row", inboxTopic(inboxID)}, {"frame-viewers-thread", convTopic(id)},
	} {
		var buf bytes.Buffer
		if err := s.views.Fragment(&buf, "chats", fr.name, f); err != nil {
			s.log.Error("render viewers frame", "err", err)
			return
		}
		s.hub.Publish(ctx, hub.Event{Topic: fr.topic, Frame: buf.Bytes()})
	}
}
