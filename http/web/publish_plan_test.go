package web

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// The ordering rules of Publisher, one change at a time, without a
// database: what of each change goes out after the changes before it.
func TestPublishPlan(t *testing.T) {
	msg := func(id int64, status string) *models.Message { return &models.Message{ID: id, Status: status} }
	item := func(seq int64, m *models.Message) models.Event {
		return models.Event{ID: seq, ConversationID: 1, Kind: models.EvMessage, Message: m}
	}
	tick := func(seq int64, m *models.Message) models.Event {
		return models.Event{ID: seq, ConversationID: 1, Kind: models.EvMessageStatus, Message: m}
	}
	closed := func(seq int64) models.Event { return models.Event{ID: seq, ConversationID: 1, Kind: models.EvClosed} }
	type want struct {
		state bool
		seqs  []int64
	}
	for _, tc := range []struct {
		name    string
		changes [][]models.Event
		want    []want
	}{
		{"in order: every row and item",
			[][]models.Event{{item(1, msg(7, "queued"))}, {closed(2)}},
			[]want{{true, []int64{1}}, {true, []int64{2}}}},
		{"a late change: its items, not its row",
			[][]models.Event{{closed(5)}, {item(3, msg(7, "received"))}},
			[]want{{true, []int64{5}}, {false, []int64{3}}}},
		{"a status-only change: ticks, never the row",
			[][]models.Event{{tick(4, msg(7, "sent"))}},
			[]want{{false, []int64{4}}}},
		{"an older tick of the same message is skipped",
			[][]models.Event{{tick(6, msg(7, "delivered"))}, {tick(4, msg(7, "sent"))}, {tick(5, msg(8, "sent"))}},
			[]want{{false, []int64{6}}, {false, nil}, {false, []int64{5}}}},
		{"a change with several events is as new as its last",
			[][]models.Event{{closed(5)}, {item(4, msg(7, "received")), closed(6)}},
			[]want{{true, []int64{5}}, {true, []int64{4, 6}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &convOrder{status: map[int64]statusSeen{}}
			for i, evs := range tc.changes {
				pl := o.plan(&models.Change{Events: evs}, time.Now())
				var seqs []int64
				for _, ev := range pl.events {
					seqs = append(seqs, ev.ID)
				}
				if pl.state != tc.want[i].state || !slices.Equal(seqs, tc.want[i].seqs) {
					t.Errorf("change %d: state %v items %v; want %v %v", i, pl.state, seqs, tc.want[i].state, tc.want[i].seqs)
				}
			}
		})
	}

	t.Run("a late item shows its message's newest status", func(t *testing.T) {
		o := &convOrder{status: map[int64]statusSeen{}}
		o.plan(&models.Change{Events: []models.Event{tick(9, &models.Message{ID: 7, Status: "failed", StatusReason: "Opted out"})}}, time.Now())
		late := &models.Message{ID: 7, Status: "queued"}
		pl := o.plan(&models.Change{Events: []models.Event{item(8, late)}}, time.Now())
		if m := pl.events[0].Message; m.Status != "failed" || m.StatusReason != "Opted out" || late.Status != "queued" {
			t.Errorf("late item shows %q (%q), the change's own message is now %q; want failed, unchanged", m.Status, m.StatusReason, late.Status)
		}
	})
}

// TestShardForgets: a conversation idle for orderMemory is forgotten, and
// so is a busy one's old status of each message; recent ones are kept.
func TestShardForgets(t *testing.T) {
	now := time.Now()
	old := now.Add(-orderMemory - time.Second)
	sh := &shard{convs: map[int64]*convOrder{
		1: {state: 5, seen: old, status: map[int64]statusSeen{}},
		2: {state: 9, seen: now, status: map[int64]statusSeen{7: {seq: 3, at: old}, 8: {seq: 8, at: now}}},
	}}
	sh.forget(now)
	if _, ok := sh.convs[1]; ok {
		t.Error("an idle conversation was kept")
	}
	c := sh.convs[2]
	if c == nil || c.state != 9 {
		t.Fatalf("the busy conversation: %+v", c)
	}
	if _, ok := c.status[7]; ok {
		t.Error("an old message status was kept")
	}
	if _, ok := c.status[8]; !ok {
		t.Error("a recent message status was forgotten")
	}
}
