package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// process is a child the tool started and must stop: the Parley server, the
// ceiling server, a private redis-server. It is stopped by its own PID only.
type process struct {
	name string
	cmd  *exec.Cmd

	waitOnce sync.Once
	waited   chan struct{}
	waitErr  error
}

// startProcess starts cmd. The child gets SIGKILL if the tool dies without
// stopping it (Pdeathsig), so an interrupted run leaves nothing behind.
func startProcess(name string, cmd *exec.Cmd) (*process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadtest: start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, waited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.waited)
	}()
	return p, nil
}

// PID is the child's process id.
func (p *process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the child has ended, and how.
func (p *process) Exited() (bool, error) {
	select {
	case <-p.waited:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// Stop sends SIGTERM, waits up to grace, then SIGKILLs. It is safe to call
// more than once.
func (p *process) Stop(grace time.Duration) error {
	var err error
	p.waitOnce.Do(func() {
		if done, _ := p.Exited(); done {
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.waited:
		case <-t.C:
			_ = p.cmd.Process.Kill()
			<-p.waited
			err = fmt.Errorf("loadtest: %s (pid %d) ignored SIGTERM for %s; killed", p.name, p.PID(), grace)
		}
	})
	return err
}

// freeLoopbackAddr returns a 127.0.0.1 address with a port free right now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("loadtest: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHTTP polls url until it answers 200, p exits, or timeout passes.
func waitHTTP(ctx context.Context, p *process, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		if done, err := p.Exited(); done {
			return fmt.Errorf("loadtest: %s exited before it was ready: %v", p.name, err)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("loadtest: %s not ready at %s within %s: %w", p.name, url, timeout, errors.Join(last, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
