package hub

import (
	"bytes"
	"testing"
)

func FuzzDecodeEvent(f *testing.F) {
	f.Add(encodeEvent(42, Event{Topic: "conv:1", Seq: 7, Frame: []byte("<div id=m7>hi</div>")}))
	f.Add(encodeEvent(0, Event{}))
	f.Add(encodeEvent(1<<63, Event{Topic: "loc:1", Seq: -1}))
	f.Add([]byte{codecVersion, 0, 0, 0, 0, 0, 0, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, payload []byte) {
		node, ev, err := decodeEvent(payload)
		if err != nil {
			return
		}
		// What decodes must survive a round trip.
		node2, ev2, err := decodeEvent(encodeEvent(node, ev))
		if err != nil || node2 != node || ev2.Topic != ev.Topic || ev2.Seq != ev.Seq || !bytes.Equal(ev2.Frame, ev.Frame) {
			t.Fatalf("round trip of %+v (node %d) gave %+v (node %d), %v", ev, node, ev2, node2, err)
		}
	})
}
