package hub

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The broker payload of one event:
//
//	version  1 byte (codecVersion)
//	node     8 bytes, big-endian: the publishing hub's id
//	seq      signed varint
//	topic    uvarint length, then the bytes
//	frame    the rest
//
// Binary rather than JSON: the frame is HTML and would be escaped, and this
// is on every event's path.
const codecVersion = 1

var errBadPayload = errors.New("hub: bad broker payload")

func encodeEvent(node uint64, ev Event) []byte {
	b := make([]byte, 0, 1+8+2*binary.MaxVarintLen64+len(ev.Topic)+len(ev.Frame))
	b = append(b, codecVersion)
	b = binary.BigEndian.AppendUint64(b, node)
	b = binary.AppendVarint(b, ev.Seq)
	b = binary.AppendUvarint(b, uint64(len(ev.Topic)))
	b = append(b, ev.Topic...)
	return append(b, ev.Frame...)
}

// decodeEvent parses a payload from encodeEvent. The frame aliases payload.
func decodeEvent(payload []byte) (node uint64, ev Event, err error) {
	if len(payload) < 1+8 {
		return 0, Event{}, fmt.Errorf("%w: %d bytes", errBadPayload, len(payload))
	}
	if payload[0] != codecVersion {
		return 0, Event{}, fmt.Errorf("%w: version %d", errBadPayload, payload[0])
	}
	node = binary.BigEndian.Uint64(payload[1:9])
	rest := payload[9:]
	seq, n := binary.Varint(rest)
	if n <= 0 {
		return 0, Event{}, fmt.Errorf("%w: seq", errBadPayload)
	}
	rest = rest[n:]
	tlen, n := binary.Uvarint(rest)
	if n <= 0 || tlen > uint64(len(rest)-n) {
		return 0, Event{}, fmt.Errorf("%w: topic", errBadPayload)
	}
	rest = rest[n:]
	ev = Event{Topic: string(rest[:tlen]), Seq: seq, Frame: rest[tlen:len(rest):len(rest)]}
	return node, ev, nil
}
