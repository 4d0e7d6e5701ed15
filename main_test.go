package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
)

var env testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, "main", &env)) }

// parley runs the program in-process with the given environment overrides.
func parley(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	return parleyCtx(context.Background(), t, vars, args...)
}

func parleyCtx(ctx context.Context, t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	base := map[string]string{
		"PARLEY_DATABASE_URL":   env.DatabaseURL,
		"PARLEY_REDIS_URL":      env.RedisURL,
		"PARLEY_SESSION_SECRET": "main-test-secret-main-test-secret-0001",
		// Email's listeners on ports of their own, so tests (and a Parley
		// running on this machine) never compete for the defaults.
		"PARLEY_SMTP_LISTEN_ADDR": "127.0.0.1:0",
		"PARLEY_MAILBOX_ADDR":     "127.0.0.1:0",
	}
	for k, v := range vars {
		base[k] = v
	}
	var out, errOut bytes.Buffer
	code := run(ctx, args, func(k string) string { return base[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestBadConfigNamesVariable(t *testing.T) {
	for _, tc := range []struct{ key, value string }{
		{"PARLEY_DATABASE_URL", "not a url"},
		{"PARLEY_REDIS_URL", "http://127.0.0.1:6379"},
		{"PARLEY_HTTP_ADDR", "nonsense"},
		{"PARLEY_SESSION_SECRET", "too-short"},
		{"PARLEY_PPROF_ADDR", "0.0.0.0:6060"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			code, _, stderr := parley(t, map[string]string{tc.key: tc.value}, "serve")
			if code == 0 || !strings.Contains(stderr, tc.key) {
				t.Fatalf("exit %d, stderr %q: want failure naming %s", code, stderr, tc.key)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, stderr := parley(t, nil, "frobnicate"); code == 0 || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, out, _ := parley(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "parley ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

func TestMigrateUpResetUpAndSeed(t *testing.T) {
	code, out, stderr := parley(t, nil, "migrate", "reset")
	if code != 0 || !strings.Contains(out, "reverted") {
		t.Fatalf("reset: %d %s %s", code, out, stderr)
	}
	if code, out, _ := parley(t, nil, "migrate", "status"); code != 0 || strings.Contains(out, "applied") {
		t.Fatalf("status after reset: %d\n%s", code, out)
	}
	// serve refuses a schema that is behind the binary, and says what to do.
	if code, _, stderr := parley(t, nil, "seed", "--demo"); code == 0 || !strings.Contains(stderr, "migrate up") {
		t.Fatalf("seed on an empty schema: %d %s", code, stderr)
	}
	if code, out, stderr := parley(t, nil, "migrate", "up"); code != 0 || strings.Count(out, "applied") < 2 {
		t.Fatalf("up: %d %s %s", code, out, stderr)
	}
	if code, out, _ := parley(t, nil, "migrate", "down"); code != 0 || !strings.Contains(out, "reverted") {
		t.Fatalf("down: %d %s", code, out)
	}
	if code, out, _ := parley(t, nil, "migrate", "up"); code != 0 || strings.Count(out, "applied") != 1 {
		t.Fatalf("up after down should apply one step: %d %s", code, out)
	}
	if code, out, _ := parley(t, nil, "migrate", "up"); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("second up: %d %s", code, out)
	}

	code, out, stderr = parley(t, nil, "seed", "--demo", "--admin-email", "boss@demo.parley.test", "--admin-password", "boss password 1")
	if code != 0 {
		t.Fatalf("seed: %d %s", code, stderr)
	}
	for _, want := range []string{"http://localhost:8080", "boss@demo.parley.test", "boss password 1", "+15550100100", "demo@inbound.parley.test"} {
		if !strings.Contains(out, want) {
			t.Errorf("seed output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = parley(t, nil, "seed", "--demo", "--admin-email", "boss@demo.parley.test", "--admin-password", "boss password 1")
	if code != 0 || !strings.Contains(out, "password was kept") {
		t.Fatalf("second seed should keep the existing password: %d\n%s", code, out)
	}
}

func TestServeStartsAndStopsGracefully(t *testing.T) {
	if code, _, stderr := parley(t, nil, "migrate", "up"); code != 0 {
		t.Fatal(stderr)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, _, stderr := parleyCtx(ctx, t, map[string]string{"PARLEY_HTTP_ADDR": addr, "PARLEY_BASE_URL": "http://" + addr}, "serve")
		if code != 0 {
			fmt.Fprintln(os.Stderr, stderr)
		}
		done <- code
	}()
	// Wait for readiness by polling /readyz: the server announces nothing else.
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d after shutdown", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of the signal")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

// logWatch is a log writer that signals the first time the log contains want.
type logWatch struct {
	want string
	seen chan struct{}

	mu   sync.Mutex
	buf  bytes.Buffer
	done bool
}

func newLogWatch(want string) *logWatch { return &logWatch{want: want, seen: make(chan struct{})} }

func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.want) {
		w.done = true
		close(w.seen)
	}
	return n, err
}

func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestWorkerStartsAndStops: `parley worker` builds the parts without the
// web server (nothing listens on the HTTP address), runs its jobs, and
// stops gracefully on the signal.
func TestWorkerStartsAndStops(t *testing.T) {
	if code, _, stderr := parley(t, nil, "migrate", "up"); code != 0 {
		t.Fatal(stderr)
	}
	addr := freeAddr(t)
	vars := map[string]string{
		"PARLEY_DATABASE_URL": env.DatabaseURL, "PARLEY_REDIS_URL": env.RedisURL, "PARLEY_HTTP_ADDR": addr,
	}
	log := newLogWatch("worker started")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"worker"}, func(k string) string { return vars[k] }, io.Discard, log)
	}()
	select {
	case <-log.seen:
	case code := <-done:
		t.Fatalf("worker exited %d before it started:\n%s", code, log)
	case <-time.After(15 * time.Second):
		t.Fatalf("worker did not start within 15s:\n%s", log)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("something listens on %s: the worker must not serve HTTP", addr)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(log.String(), "stopped") {
			t.Fatalf("worker exited %d after the signal:\n%s", code, log)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop within 30s of the signal")
	}
}
