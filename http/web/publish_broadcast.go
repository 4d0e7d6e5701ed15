package web

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// broadcastTopic is one broadcast's live progress: the sockets of its
// page join it (ws_broadcast.go), on whichever node they are connected to.
func broadcastTopic(id int64) string { return "broadcast:" + strconv.FormatInt(id, 10) }

// broadcastFrameEvery spaces one broadcast's progress frames: at most four
// a second, however fast the fan-out and the receipts tick. A call within
// the interval is not lost: it arms one trailing frame, which reads the
// counts when it fires, so the last state always shows.
const broadcastFrameEvery = 250 * time.Millisecond

// broadcastReadTimeout bounds one progress frame's read of the counts.
const broadcastReadTimeout = 5 * time.Second

// broadcastFrames is the publisher's per-broadcast throttle.
type broadcastFrames struct {
	mu    sync.Mutex
	state map[int64]*broadcastFrame
}

// broadcastFrame is one broadcast's throttle state.
type broadcastFrame struct {
	orgID int64
	last  time.Time // when the last frame started
	armed bool      // a frame is scheduled
	busy  bool      // a frame is being read and published
	again bool      // a call came while busy: one more frame after it
}

// BroadcastProgress shows a broadcast's progress live
// (jobs.BroadcastNotifier): the counts are read and a progress frame is
// published to the broadcast's topic, at most every broadcastFrameEvery,
// with a trailing frame for calls in between. It never blocks.
func (p *Publisher) BroadcastProgress(orgID, broadcastID int64) {
	f := &p.bcFrames
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == nil {
		f.state = map[int64]*broadcastFrame{}
	}
	st := f.state[broadcastID]
	if st == nil {
		f.prune()
		st = &broadcastFrame{orgID: orgID}
		f.state[broadcastID] = st
	}
	switch {
	case st.busy:
		st.again = true
	case !st.armed:
		p.armBroadcastFrame(broadcastID, st, broadcastFrameEvery-time.Since(st.last))
	}
}

// armBroadcastFrame schedules st's next frame after wait (now if
// negative). The caller holds bcFrames.mu.
func (p *Publisher) armBroadcastFrame(id int64, st *broadcastFrame, wait time.Duration) {
	st.armed = true
	time.AfterFunc(max(wait, 0), func() { p.broadcastFrame(id) })
}

// prune forgets broadcasts without a frame in the last few intervals (a
// later call then publishes at once, which the interval allows). The
// caller holds mu.
func (f *broadcastFrames) prune() {
	if len(f.state) < 64 {
		return
	}
	for id, st := range f.state {
		if !st.armed && !st.busy && time.Since(st.last) > 4*broadcastFrameEvery {
			delete(f.state, id)
		}
	}
}

// broadcastFrame reads the counts and publishes one progress frame, then
// arms the trailing one if calls came meanwhile.
func (p *Publisher) broadcastFrame(id int64) {
	f := &p.bcFrames
	f.mu.Lock()
	st := f.state[id]
	st.armed, st.busy, st.last = false, true, time.Now()
	orgID := st.orgID
	f.mu.Unlock()

	p.publishBroadcastFrame(orgID, id)

	f.mu.Lock()
	st.busy = false
	if st.again {
		st.again = false
		p.armBroadcastFrame(id, st, broadcastFrameEvery-time.Since(st.last))
	}
	f.mu.Unlock()
}

// publishBroadcastFrame renders the broadcast's progress card as an
// out-of-band swap and publishes it.
func (p *Publisher) publishBroadcastFrame(orgID, id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), broadcastReadTimeout)
	defer cancel()
	v, err := p.store.BroadcastProgress(ctx, orgID, id)
	if err != nil {
		p.log.Warn("broadcast progress", "broadcast", id, "err", err)
		return
	}
	frame, err := p.broadcastProgressFrame(v)
	if err != nil {
		p.log.Warn("render broadcast progress", "broadcast", id, "err", err)
		return
	}
	p.send(broadcastTopic(id), 0, frame)
}

// broadcastProgressFrame is the progress card of v as a live frame.
func (p *Publisher) broadcastProgressFrame(v *models.BroadcastView) ([]byte, error) {
	prog := views.NewBroadcastProgress(v)
	prog.OOB = true
	var buf bytes.Buffer
	if err := p.views.Fragment(&buf, "broadcast", "broadcast-live", prog); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// notifyBroadcast turns a change of a broadcast's own message (queued,
// sent, delivered, failed: from the worker and the receipt webhook) into
// a progress frame of its broadcast.
func (p *Publisher) notifyBroadcast(ch *models.Change) {
	c := &ch.Conversation
	if c.BroadcastID != nil && c.Origin == models.OriginBroadcast {
		p.BroadcastProgress(c.OrgID, *c.BroadcastID)
	}
}
