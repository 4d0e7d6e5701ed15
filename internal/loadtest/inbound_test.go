package loadtest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/channels/sms"
)

func TestMarkersRoundTrip(t *testing.T) {
	run := newRunID()
	if len(run) != markerRunLen {
		t.Fatalf("run id %q, want %d characters", run, markerRunLen)
	}
	a := makeMarker(run, kindMeasured, 42, 1732412345678901234)
	b := makeMarker(run, kindWarm, 7, 5)
	if len(a) != markerLen || len(b) != markerLen {
		t.Fatalf("marker lengths %d, %d, want %d", len(a), len(b), markerLen)
	}
	other := makeMarker("00000000", kindMeasured, 1, 1) // another run's: ignored
	// As Parley shows them: inside a list row, several rows per message.
	msg := fmt.Sprintf(`<div data-seq="9"><span class="conv-preview">%s hello</span></div><div>%s</div>`+
		`<span>%s warm-up</span><span>lt%sm12</span>`, a, other, b, run)
	var got []string
	n := parseMarkers([]byte(msg), run, func(k markerKind, idx int, sent int64) {
		got = append(got, fmt.Sprintf("%c%d@%d", k, idx, sent))
	})
	if want := "m42@1732412345678901234 w7@5"; n != 2 || strings.Join(got, " ") != want {
		t.Errorf("parsed %d: %v, want %s", n, got, want)
	}
}

func TestInboundRunCountsEachPairOnce(t *testing.T) {
	r := newInboundRun("abcdef01", 100, 2)
	sent := time.Now().Add(-3 * time.Millisecond)
	frame := []byte(makeMarker("abcdef01", kindMeasured, 99, sent.UnixNano()) + " x")
	r.onMessage(0, frame, time.Now())
	r.onMessage(0, frame, time.Now()) // the same message again on socket 0
	r.onMessage(1, frame, time.Now())
	r.onMessage(1, []byte(makeMarker("abcdef01", kindWarm, 0, sent.UnixNano())), time.Now())
	r.onMessage(1, []byte(makeMarker("abcdef01", kindMeasured, 100, sent.UnixNano())), time.Now()) // out of range
	if n := r.seenTotal(); n != 2 {
		t.Errorf("seen %d, want 2", n)
	}
	if d := r.dups.Load(); d != 1 {
		t.Errorf("duplicates %d, want 1", d)
	}
	if !r.warm[1].Load() || r.warm[0].Load() {
		t.Error("warm-up flags wrong")
	}
	var d Distribution
	for i := range r.screen {
		d.Merge(r.screen[i].Snapshot())
	}
	// Quantile answers a bucket's middle, a little under a value at the
	// bucket's top (2.991 ms for 3.0x ms was seen).
	if d.Count() != 2 || d.Quantile(1) < 2900*time.Microsecond {
		t.Errorf("latencies: %d recorded, max %v", d.Count(), d.Quantile(1))
	}
}

// TestWebhookFormIsValid checks the form against Parley's own webhook
// code: the signature verifies and the message parses as sent.
func TestWebhookFormIsValid(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	text := makeMarker("abcdef01", kindMeasured, 3, now.UnixNano()) + " hello & welcome = 1"
	for _, m := range []sms.SignatureMethod{sms.SignatureMD5Hash, sms.SignatureSHA256} {
		form := webhookForm("19990000003", "+15550100100", "abcdef01-3", text, now, "n1", "s3cret", m)
		if err := sms.Verify(form, "s3cret", m); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if err := sms.Verify(form, "other", m); err == nil {
			t.Fatalf("%s: verifies with the wrong secret", m)
		}
		in, err := sms.ParseInboundParams(form)
		if err != nil {
			t.Fatalf("%s: parse: %v", m, err)
		}
		if in.From != "+19990000003" || in.To != "+15550100100" || in.Text != text || in.MessageID != "abcdef01-3" ||
			!in.Timestamp.Equal(now) || in.Keyword != strings.ToUpper(text[:markerLen]) {
			t.Errorf("%s: parsed %+v", m, in)
		}
	}
}
