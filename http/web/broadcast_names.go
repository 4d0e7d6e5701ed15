package web

import (
	"context"
	"sync"

	"github.com/parley-chat/parley/views"
)

// Conversations marked with a broadcast show its name ("Broadcast: Snow
// day") in the Chats list and the thread head. The row query stays as it
// is (B6 measures it, and the inbound core builds rows without it): the
// names come from this cache, filled by one query for the names a page is
// missing. A broadcast's name does not change once it exists, so nothing
// goes stale.

// broadcastNameCacheSize bounds the names kept; when full, the cache starts afresh.
const broadcastNameCacheSize = 4096

// broadcastNames caches broadcast names by id.
type broadcastNames struct {
	mu    sync.Mutex
	names map[int64]string
}

// nameBroadcasts fills the Broadcast name of the rows marked with one.
// A failed lookup leaves the names empty (the badge then says only
// "Broadcast"): a list is not refused for a label.
func (p *Publisher) nameBroadcasts(ctx context.Context, orgID int64, rows []views.ConvRow) {
	var ids []int64
	for _, r := range rows {
		if r.BroadcastID != 0 {
			ids = append(ids, r.BroadcastID)
		}
	}
	if len(ids) == 0 {
		return
	}
	names := p.broadcastNamesOf(ctx, orgID, ids)
	for i := range rows {
		if id := rows[i].BroadcastID; id != 0 {
			rows[i].Broadcast = names[id]
		}
	}
}

// broadcastName is one broadcast's name ("" for nil or unknown).
func (p *Publisher) broadcastName(ctx context.Context, orgID int64, id *int64) string {
	if id == nil {
		return ""
	}
	return p.broadcastNamesOf(ctx, orgID, []int64{*id})[*id]
}

// broadcastNamesOf looks ids up in the cache, and the missing ones in the
// database.
func (p *Publisher) broadcastNamesOf(ctx context.Context, orgID int64, ids []int64) map[int64]string {
	c := &p.bcNames
	out := make(map[int64]string, len(ids))
	var missing []int64
	c.mu.Lock()
	for _, id := range ids {
		if n, ok := c.names[id]; ok {
			out[id] = n
		} else {
			missing = append(missing, id)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out
	}
	found, err := p.store.BroadcastNames(ctx, orgID, missing)
	if err != nil {
		p.log.Warn("broadcast names", "org", orgID, "ids", len(missing), "err", err)
		return out
	}
	c.mu.Lock()
	if c.names == nil || len(c.names)+len(found) > broadcastNameCacheSize {
		c.names = make(map[int64]string, 64)
	}
	for id, n := range found {
		c.names[id] = n
		out[id] = n
	}
	c.mu.Unlock()
	return out
}
