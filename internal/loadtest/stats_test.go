package loadtest

import (
	"math"
	"testing"
	"time"
)

func TestBucketsCoverEveryValue(t *testing.T) {
	prevHi := int64(-1)
	for i := range numBuckets {
		lo, hi := bucketRange(i)
		if int64(lo) != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if lo > hi {
			t.Fatalf("bucket %d: lo %d > hi %d", i, lo, hi)
		}
		if i >= subBuckets && float64(hi-lo+1)/float64(lo) > 1.0/subBuckets+1e-9 {
			t.Fatalf("bucket %d [%d,%d] wider than 1/%d of its value", i, lo, hi, subBuckets)
		}
		prevHi = int64(hi)
	}
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 12345, 1 << 20, 1<<30 + 7, 1<<36 - 1} {
		i := bucketOf(v)
		if lo, hi := bucketRange(i); v < lo || v > hi {
			t.Errorf("value %d in bucket %d = [%d,%d]", v, i, lo, hi)
		}
	}
	if got := bucketOf(math.MaxUint64); got != numBuckets-1 {
		t.Errorf("huge value in bucket %d, want the last (%d)", got, numBuckets-1)
	}
}

func TestQuantiles(t *testing.T) {
	var h Histogram
	if q := h.Snapshot().Quantile(0.99); q != 0 {
		t.Fatalf("empty p99 = %v, want 0", q)
	}
	// 1..10000 µs once each: pN is N % of 10 ms.
	for v := 1; v <= 10000; v++ {
		h.Record(time.Duration(v) * time.Microsecond)
	}
	h.Record(-time.Second) // clock skew counts as zero
	d := h.Snapshot()
	if d.Count() != 10001 {
		t.Fatalf("count %d", d.Count())
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.99, 9900 * time.Microsecond}, {0.999, 9990 * time.Microsecond}, {1, 10 * time.Millisecond}} {
		got := d.Quantile(c.q)
		if rel := math.Abs(float64(got-c.want)) / float64(c.want); rel > 1.0/subBuckets {
			t.Errorf("p%v = %v, want %v ± %.1f %%", c.q*100, got, c.want, 100.0/subBuckets)
		}
	}

	// Merging two halves gives the whole.
	var a, b Histogram
	for v := 1; v <= 10000; v++ {
		if v%2 == 0 {
			a.Record(time.Duration(v) * time.Microsecond)
		} else {
			b.Record(time.Duration(v) * time.Microsecond)
		}
	}
	m := a.Snapshot()
	m.Merge(b.Snapshot())
	if m.Count() != 10000 || m.Quantile(0.5) != d.Quantile(0.5) {
		t.Errorf("merged: count %d p50 %v, want 10000 and %v", m.Count(), m.Quantile(0.5), d.Quantile(0.5))
	}
}

func TestRatioAndPerMillion(t *testing.T) {
	if r := Ratio(475_000, 500_000); math.Abs(r-0.95) > 1e-12 {
		t.Errorf("Ratio = %v, want 0.95", r)
	}
	if r := Ratio(1, 0); !math.IsNaN(r) {
		t.Errorf("Ratio(1, 0) = %v, want NaN", r)
	}
	if s := fmtRatio(Ratio(1, 0)); s != "—" {
		t.Errorf("fmtRatio(NaN) = %q", s)
	}
	if s := fmtRatio(0.874); s != "0.87×" {
		t.Errorf("fmtRatio(0.874) = %q", s)
	}
	if c := perMillion(3, 2_000_000); c != 1.5 {
		t.Errorf("perMillion = %v, want 1.5", c)
	}
	if c := perMillion(3, 0); !math.IsNaN(c) {
		t.Errorf("perMillion without deliveries = %v, want NaN", c)
	}
}

func TestFramesRoundTrip(t *testing.T) {
	a := makeFrame(3, 1732412345678901234, 200)
	b := makeFrame(12, 42, 200)
	if len(a) != 200 || len(b) != 200 {
		t.Fatalf("frame sizes %d, %d, want 200", len(a), len(b))
	}
	if n := len(makeFrame(1, 1, 10)); n != minFrame {
		t.Errorf("a too-small size gives %d bytes, want the minimum %d", n, minFrame)
	}
	var steps []int
	var sent []int64
	n := parseFrames(append(append(append([]byte{}, a...), "\n"...), b...), func(s int, t int64) {
		steps, sent = append(steps, s), append(sent, t)
	})
	if n != 2 || steps[0] != 3 || steps[1] != 12 || sent[0] != 1732412345678901234 || sent[1] != 42 {
		t.Errorf("parsed %d: steps %v sent %v", n, steps, sent)
	}
	if n := parseFrames([]byte(`<div id="bench" data-s="x1"`), func(int, int64) {}); n != 0 {
		t.Errorf("garbage parsed as %d frames", n)
	}
}
