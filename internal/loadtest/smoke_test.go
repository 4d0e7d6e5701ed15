package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestMain lets this test binary act as the ceiling server when the tool
// re-executes it (see ceiling.go).
func TestMain(m *testing.M) {
	if IsChild() {
		os.Exit(ChildMain())
	}
	os.Exit(m.Run())
}

// smokeRedis returns the -redis-url flag for a smoke run: empty (the tool
// starts a private redis-server) when one is installed, else the test
// Redis, which is safe for the ceiling alone (it uses a channel of its own).
func smokeRedis(t *testing.T, parley bool) []string {
	if _, err := exec.LookPath("redis-server"); err == nil {
		return nil
	}
	if parley {
		t.Skip("the Parley target needs a private redis-server (parley:hub is shared by every Parley on a Redis)")
	}
	if u := os.Getenv("PARLEY_TEST_REDIS_URL"); u != "" {
		return []string{"-redis-url", u}
	}
	t.Skip("no redis-server on PATH and PARLEY_TEST_REDIS_URL unset")
	return nil
}

// smokeTargets measures the ceiling only, unless PARLEY_BENCH_BIN names a
// built parley binary (then both).
func smokeTargets(t *testing.T) []string {
	bin := os.Getenv("PARLEY_BENCH_BIN")
	if bin == "" {
		return append([]string{"-targets", "ceiling"}, smokeRedis(t, false)...)
	}
	args := append([]string{"-targets", "parley,ceiling", "-bin", bin}, smokeRedis(t, true)...)
	if u := os.Getenv("PARLEY_BENCH_DATABASE_URL"); u != "" {
		args = append(args, "-database-url", u)
	}
	return args
}

// TestFanoutSmoke runs the B1 scenario with tiny numbers: the code path, not
// a measurement.
func TestFanoutSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, progress bytes.Buffer
	args := append([]string{"fanout", "-sockets", "20", "-rates", "50,100", "-step", "1s", "-drain", "2s", "-timeout", "90s"},
		smokeTargets(t)...)
	if err := Main(ctx, args, &out, &progress); err != nil {
		t.Fatalf("fanout: %v\n%s", err, progress.String())
	}
	t.Log("\n" + out.String())
	for _, want := range []string{"### ceiling", "| 50 | 20 | 1000 |", "| 100 | 20 | 2000 |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if os.Getenv("PARLEY_BENCH_BIN") != "" && !strings.Contains(out.String(), "### Parley / ceiling") {
		t.Error("output lacks the comparison")
	}
}

// TestIdleSmoke runs the B4 scenario with 20 sockets held for a second.
func TestIdleSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, progress bytes.Buffer
	args := append([]string{"idle", "-sockets", "20", "-hold", "1s", "-settle", "200ms", "-timeout", "90s"}, smokeTargets(t)...)
	if err := Main(ctx, args, &out, &progress); err != nil {
		t.Fatalf("idle: %v\n%s", err, progress.String())
	}
	t.Log("\n" + out.String())
	if want := "| ceiling | 20 | 20 | 20 |"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q", want)
	}
}

// TestInboundSmoke runs the B2 scenario with tiny numbers against a real
// `parley serve`: PARLEY_BENCH_BIN's binary, or one it builds (as `make test`
// runs it), on a database of its own that it drops afterwards (or
// PARLEY_BENCH_DATABASE_URL's), with a private redis-server.
func TestInboundSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts parley")
	}
	extra := smokeRedis(t, true)
	bin := os.Getenv("PARLEY_BENCH_BIN")
	if bin == "" {
		bin = buildParley(t)
	}
	dbURL := os.Getenv("PARLEY_BENCH_DATABASE_URL")
	if dbURL == "" {
		dbURL = smokeDatabase(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, progress bytes.Buffer
	args := append([]string{"inbound", "-bin", bin, "-sockets", "5", "-rate", "20", "-duration", "1s", "-senders", "10",
		"-drain", "5s", "-timeout", "90s", "-database-url", dbURL}, extra...)
	if err := Main(ctx, args, &out, &progress); err != nil {
		t.Fatalf("inbound: %v\n%s", err, progress.String())
	}
	t.Log("\n" + out.String())
	if want := "| 20 | 20 | 0 | 0 |"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q", want)
	}
}

// TestChatsSmoke runs the B5/B6 scenario on a few hundred generated
// conversations; it builds parley unless PARLEY_BENCH_BIN names a binary, and needs a
// private redis-server and PARLEY_TEST_DATABASE_URL's server, where it
// creates a database of its own and drops it.
func TestChatsSmoke(t *testing.T) {
	bin := os.Getenv("PARLEY_BENCH_BIN")
	if bin == "" {
		bin = buildParley(t)
	}
	base := os.Getenv("PARLEY_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("PARLEY_TEST_DATABASE_URL unset: the chats scenario needs PostgreSQL")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = fmt.Sprintf("/parley_bench_chats_smoke_%d", os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, progress bytes.Buffer
	args := append([]string{"chats", "-bin", bin, "-database-url", u.String(), "-conversations", "300", "-messages", "1200",
		"-duration", "300ms", "-warm", "100ms", "-rounds", "1", "-timeout", "150s"}, smokeRedis(t, true)...)
	if err := Main(ctx, args, &out, &progress); err != nil {
		t.Fatalf("chats: %v\n%s", err, progress.String())
	}
	t.Log("\n" + out.String())
	for _, want := range []string{"| 1 | " + bin + " | /chats | ", "| 1 | store | /chats?q=765-4321 | "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for line := range strings.SplitSeq(out.String(), "\n") {
		if strings.HasPrefix(line, "| 1 |") && !strings.HasSuffix(line, " | 0 |") {
			t.Errorf("errors in %q", line)
		}
	}
	if !strings.Contains(progress.String(), "dropped database") {
		t.Errorf("database not dropped:\n%s", progress.String())
	}
}

// buildParley builds the parley binary into the test's temporary directory.
func buildParley(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "parley")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/parley-chat/parley")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// smokeDatabase names a fresh database on the test PostgreSQL (the tool
// creates it) and drops it when the test ends.
func smokeDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("PARLEY_TEST_DATABASE_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("PARLEY_TEST_DATABASE_URL: %v", err)
	}
	name := "parley_smoke_" + newRunID()
	u.Path = "/" + name
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return u.String()
}
