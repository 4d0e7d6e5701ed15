package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// workerProc runs real `parley worker` processes for the kill tests: it
// builds the binary once, logs every run to one file, and makes sure no
// worker outlives the test.
type workerProc struct {
	t       *testing.T
	bin     string
	logPath string
	logFile *os.File
	env     []string
	live    *exec.Cmd
}

// newWorkerProc builds the binary; extraEnv is added to the worker's
// environment (after the database, Redis and session settings).
func newWorkerProc(t *testing.T, extraEnv ...string) *workerProc {
	t.Helper()
	w := &workerProc{t: t, bin: filepath.Join(t.TempDir(), "parley"), logPath: filepath.Join(t.TempDir(), "worker.log")}
	build := exec.Command("go", "build", "-o", w.bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	var err error
	if w.logFile, err = os.Create(w.logPath); err != nil {
		t.Fatal(err)
	}
	w.env = append(append(os.Environ(),
		"PARLEY_DATABASE_URL="+env.DatabaseURL, "PARLEY_REDIS_URL="+env.RedisURL,
		"PARLEY_SESSION_SECRET=kill-test-secret-kill-test-secret-0001", "PARLEY_LOG_LEVEL=warn",
		"PARLEY_SMTP_LISTEN_ADDR=127.0.0.1:0", "PARLEY_MAILBOX_ADDR=127.0.0.1:0"), extraEnv...)
	t.Cleanup(func() {
		if w.live != nil && w.live.ProcessState == nil {
			_ = w.live.Process.Kill()
			_ = w.live.Wait()
		}
		w.logFile.Close()
	})
	return w
}

// start runs a worker.
func (w *workerProc) start() {
	w.t.Helper()
	cmd := exec.Command(w.bin, "worker")
	cmd.Env = w.env
	cmd.Stdout, cmd.Stderr = w.logFile, w.logFile
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.live = cmd
}

// kill SIGKILLs the running worker and waits for it to go.
func (w *workerProc) kill() {
	w.t.Helper()
	if err := w.live.Process.Signal(syscall.SIGKILL); err != nil {
		w.t.Fatal(err)
	}
	_ = w.live.Wait()
}

// stop asks the running worker to stop (SIGTERM) and returns how it exited.
func (w *workerProc) stop() error {
	w.t.Helper()
	if err := w.live.Process.Signal(syscall.SIGTERM); err != nil {
		w.t.Fatal(err)
	}
	return w.live.Wait()
}

// waitFor polls cond until it holds; past within it fails the test with
// what it waited for, state() and the worker log's tail.
func (w *workerProc) waitFor(within time.Duration, what string, state func() any, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tail, _ := os.ReadFile(w.logPath)
			if len(tail) > 4000 {
				tail = tail[len(tail)-4000:]
			}
			w.t.Fatalf("timed out after %s waiting for %s (%+v); worker log tail:\n%s", within, what, state(), tail)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
