package web

import (
	"context"
	"time"

	"github.com/parley-chat/parley/models"
)

// orderMemory is how long a shard remembers a conversation after its last
// change. A change reaches Notify within moments of its commit (at most a
// database timeout later), so minutes leave a wide margin.
const orderMemory = 5 * time.Minute

// shard publishes the changes of the conversations that hash to it, one at
// a time, and is the only code that touches their ordering state.
type shard struct {
	p     *Publisher
	queue chan *models.Change
	convs map[int64]*convOrder // owned by run's goroutine
}

// convOrder is what has been published of one conversation.
type convOrder struct {
	// state is the newest event whose row and header went out.
	state int64
	// status is, per message, the newest status event that went out.
	status map[int64]statusSeen
	seen   time.Time
}

// statusSeen is a message status as published, with its event id.
type statusSeen struct {
	seq    int64
	status string
	reason string
	at     time.Time
}

func (sh *shard) run(ctx context.Context) {
	sweep := time.NewTicker(orderMemory)
	defer sweep.Stop()
	for {
		select {
		case ch := <-sh.queue:
			sh.publish(ch)
		case now := <-sweep.C:
			sh.forget(now)
		case <-ctx.Done():
			for {
				select {
				case ch := <-sh.queue:
					sh.publish(ch)
				default:
					return
				}
			}
		}
	}
}

// forget drops the state of conversations without a change for
// orderMemory, and of message statuses published that long ago (a busy
// conversation would otherwise keep one per message it ever sent).
func (sh *shard) forget(now time.Time) {
	for id, o := range sh.convs {
		if now.Sub(o.seen) > orderMemory {
			delete(sh.convs, id)
			continue
		}
		for msg, st := range o.status {
			if now.Sub(st.at) > orderMemory {
				delete(o.status, msg)
			}
		}
	}
}

// publish sends what of ch is not older than what its screens already show
// (see Publisher: Order).
func (sh *shard) publish(ch *models.Change) {
	convID := ch.Events[0].ConversationID
	o := sh.convs[convID]
	if o == nil {
		if sh.convs == nil {
			sh.convs = map[int64]*convOrder{}
		}
		o = &convOrder{status: map[int64]statusSeen{}}
		sh.convs[convID] = o
	}
	o.seen = time.Now()
	plan := o.plan(ch, o.seen)
	f := sh.p.render(ch, plan.state, plan.events)
	seq := ch.LastSeq()
	if plan.state {
		sh.p.send(inboxTopic(ch.Conversation.InboxID), seq, f.row)
	}
	sh.p.send(convTopic(convID), seq, f.thread)
}

// publishPlan is what of a change goes out.
type publishPlan struct {
	state  bool           // the row and the header
	events []models.Event // items and ticks, messages at their newest known status
}

// plan decides what of ch to publish and records it as published at now.
func (o *convOrder) plan(ch *models.Change, now time.Time) publishPlan {
	var pl publishPlan
	alters := false
	for _, ev := range ch.Events {
		if ev.Kind != models.EvMessageStatus {
			alters = true
		}
	}
	if last := ch.LastSeq(); alters && last > o.state {
		o.state, pl.state = last, true
	}
	for _, ev := range ch.Events {
		if ev.Message == nil {
			pl.events = append(pl.events, ev)
			continue
		}
		seen, ok := o.status[ev.Message.ID]
		if ev.Kind == models.EvMessageStatus {
			if ok && seen.seq >= ev.ID {
				continue // an older tick than the one shown
			}
			o.status[ev.Message.ID] = statusSeen{seq: ev.ID, status: ev.Message.Status, reason: ev.Message.StatusReason, at: now}
		} else if ok && seen.seq > ev.ID {
			// The item comes after a newer status of its message went out.
			m := *ev.Message
			m.Status, m.StatusReason = seen.status, seen.reason
			ev.Message = &m
		}
		pl.events = append(pl.events, ev)
	}
	return pl
}
