package web

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/views"
)

// PresenceChanged is the hub's presence handler (hub.HandlePresence): when
// who views a conversation changes, the thread and the list row show it.
// Presence is per node (the hub's Members are this node's sockets). It
// publishes directly, not through a shard: viewers are their own swap
// targets, and a row re-rendered for a change gets them back in the
// browser (app.js), so they need no order with the conversation's changes.
func (p *Publisher) PresenceChanged(topic string, members []hub.Member) {
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
	inboxID, err := p.store.ConversationInboxID(ctx, id)
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
		if err := p.views.Fragment(&buf, "chats", fr.name, f); err != nil {
			p.log.Error("render viewers frame", "err", err)
			return
		}
		p.hub.Publish(ctx, hub.Event{Topic: fr.topic, Frame: buf.Bytes()})
	}
}
