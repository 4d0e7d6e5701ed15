package web

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// A broadcast's page opens its socket with ?broadcast=<id>: the socket
// joins that broadcast's progress topic and nothing else (no inbox feeds:
// the page shows no chats), and is sent the current progress at once, so
// a page whose socket came back after a gap shows the present state.

// broadcastParam reads the socket request's ?broadcast= (0: none, or not
// a positive number).
func broadcastParam(c *fiber.Ctx) int64 {
	id, err := strconv.ParseInt(c.Query("broadcast"), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// joinBroadcast subscribes the socket to its broadcast's progress, if the
// user may send broadcasts and the broadcast is their organization's;
// otherwise it joins nothing and says nothing (R9: no event, no
// confirmation that the broadcast exists). Only a failed join is an error.
func (k *socket) joinBroadcast(ctx context.Context) error {
	if !k.su.Scope.Can(models.PermBroadcast) {
		return nil
	}
	v, err := k.s.store.BroadcastByID(ctx, k.su.Scope, k.broadcast)
	if err != nil {
		return nil
	}
	if err := k.s.hub.Join(ctx, broadcastTopic(k.broadcast), k.sub); err != nil {
		return err
	}
	if frame, err := k.s.pub.broadcastProgressFrame(v); err == nil {
		k.writeNow(frame)
	}
	return nil
}
