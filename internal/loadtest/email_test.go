package loadtest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestEmailCeilingSmoke: the email scenario's ceiling (an in-process
// discarding SMTP listener) takes every message from concurrent clients,
// and the table reports it.
func TestEmailCeilingSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := Main(ctx, []string{"email", "-targets", "ceiling", "-messages", "200", "-clients", "4", "-timeout", "1m"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "| ceiling | 200 | 200 | 0 |") {
		t.Errorf("ceiling row missing or not all 200 accepted:\n%s", out)
	}
}

// TestEmailFlags: bad flags are refused before anything starts.
func TestEmailFlags(t *testing.T) {
	for _, args := range [][]string{{"-messages", "0"}, {"-clients", "0"}, {"-targets", "nonsense"}} {
		var stdout, stderr bytes.Buffer
		if err := Main(context.Background(), append([]string{"email"}, args...), &stdout, &stderr); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
