package loadtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"time"

	"github.com/redis/go-redis/v9"
)

// A benchmark needs a Redis of its own. Its events go out on Parley's hub
// pub/sub channel, and its load (hundreds of thousands of deliveries a
// second behind a few thousand publishes) should not share a Redis with
// other Parley processes or tests, nor theirs reach the server under test.
// So unless -redis-url is given, the tool starts a private redis-server on
// a free loopback port, without persistence, and stops it at the end.

// privateRedis is a redis-server the tool started.
type privateRedis struct {
	URL  string
	proc *process
	dir  string
}

// startRedis runs bin (redis-server) on a free loopback port and waits
// until it answers PING.
func startRedis(ctx context.Context, bin string) (*privateRedis, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("loadtest: %s not found (install it, or pass -redis-url of a Redis no Parley uses): %w", bin, err)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	dir, err := os.MkdirTemp("", "parley-bench-redis-")
	if err != nil {
		return nil, fmt.Errorf("loadtest: redis dir: %w", err)
	}
	cmd := exec.Command(path, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--loglevel", "warning")
	cmd.Stderr = os.Stderr
	p, err := startProcess("redis-server", cmd)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	r := &privateRedis{URL: "redis://" + addr + "/0", proc: p, dir: dir}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err = rdb.Ping(ctx).Err(); err == nil {
			return r, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.Stop()
			return nil, fmt.Errorf("loadtest: private redis-server on %s not answering: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the redis-server and removes its directory.
func (r *privateRedis) Stop() {
	_ = r.proc.Stop(5 * time.Second)
	_ = os.RemoveAll(r.dir)
}
