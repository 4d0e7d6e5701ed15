package loadtest

import (
	"bytes"
	"fmt"
)

// A benchmark event is an HTML fragment like the ones Parley's hub carries:
//
//	<div id="bench" data-s="003" data-t="1732412345678901234">xxxx…</div>
//
// data-s is the step it belongs to (0 is the warm-up) and data-t the
// publisher's clock (Unix nanoseconds) just before it was published, so a
// client on the same machine computes its delivery latency. Padding makes
// the whole fragment exactly the requested size (200 bytes in B1). A
// socket write may carry several fragments back to back (coalescing).
const (
	framePrefix = `<div id="bench" data-s="`
	frameMid    = `" data-t="`
	frameHead   = `">`
	frameTail   = `</div>`
	// minFrame is the size of a fragment with no padding.
	minFrame = len(framePrefix) + 3 + len(frameMid) + 19 + len(frameHead) + len(frameTail)
)

// makeFrame renders one fragment of exactly size bytes (at least minFrame).
func makeFrame(step int, sentUnixNano int64, size int) []byte {
	b := make([]byte, 0, max(size, minFrame))
	b = append(b, framePrefix...)
	b = fmt.Appendf(b, "%03d", step)
	b = append(b, frameMid...)
	b = fmt.Appendf(b, "%019d", sentUnixNano)
	b = append(b, frameHead...)
	for len(b) < size-len(frameTail) {
		b = append(b, 'x')
	}
	return append(b, frameTail...)
}

// parseFrames calls fn with the step and send time of every fragment in
// msg, in order, and returns how many it found. Text between fragments, or
// a fragment it cannot read, is skipped.
func parseFrames(msg []byte, fn func(step int, sentUnixNano int64)) int {
	n := 0
	for {
		i := bytes.Index(msg, []byte(framePrefix))
		if i < 0 {
			return n
		}
		msg = msg[i+len(framePrefix):]
		if len(msg) < 3+len(frameMid)+19 {
			return n
		}
		step, ok1 := digits(msg[:3])
		sent, ok2 := digits(msg[3+len(frameMid) : 3+len(frameMid)+19])
		if !ok1 || !ok2 {
			continue
		}
		fn(int(step), sent)
		n++
	}
}

// digits parses a run of ASCII digits (no sign); clients parse every
// fragment, so this stays cheaper than strconv on a converted string.
func digits(b []byte) (int64, bool) {
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, len(b) > 0
}
