package loadtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// parleyOptions says how to run the Parley server under test.
type parleyOptions struct {
	Bin         string // the built binary (bin/parley)
	DatabaseURL string // a database of the benchmark's own; created if missing
	RedisURL    string // a Redis no other Parley uses (see redis.go)
	Email       string // the demo agent
	Password    string
	HubChannel  string   // the server's hub pub/sub channel ("": as main.go names it)
	ExtraEnv    []string // more PARLEY_* settings for the server, e.g. a webhook signature secret
}

// parleyServer is a `parley serve` process the tool started, signed in as
// the demo agent.
type parleyServer struct {
	proc    *process
	base    string // http://127.0.0.1:port
	inbox   int64  // the demo inbox; sockets join topic "inbox:<id>"
	header  http.Header
	logPath string
	http    *http.Client
}

// startParley prepares the database (create if missing, migrate up, seed
// the demo organization), starts `parley serve` on a free loopback port,
// waits for /readyz, signs in as the demo agent and finds the inbox.
func startParley(ctx context.Context, o parleyOptions, progress io.Writer) (*parleyServer, error) {
	if _, err := os.Stat(o.Bin); err != nil {
		return nil, fmt.Errorf("loadtest: parley binary: %w (build it: make build, or go build -o bin/parley .)", err)
	}
	if err := ensureDatabase(ctx, o.DatabaseURL); err != nil {
		return nil, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	base := "http://" + addr
	env := parleyEnv(o, addr)
	if err := migrateAndSeed(ctx, o.Bin, env); err != nil {
		return nil, err
	}

	logf, err := os.CreateTemp("", "parley-bench-server-*.log")
	if err != nil {
		return nil, fmt.Errorf("loadtest: server log: %w", err)
	}
	cmd := exec.Command(o.Bin, "serve")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := startProcess("parley serve", cmd)
	logf.Close() // the child has its own descriptor
	if err != nil {
		return nil, err
	}
	s := &parleyServer{proc: p, base: base, logPath: logf.Name()}
	fmt.Fprintf(progress, "parley serve: pid %d on %s (log %s)\n", p.PID(), addr, s.logPath)
	if err := waitHTTP(ctx, p, base+"/readyz", 30*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w\n%s", err, tail(s.logPath, 2000))
	}
	if err := s.login(ctx, o.Email, o.Password); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// parleyEnv is the environment of a Parley process serving on addr.
func parleyEnv(o parleyOptions, addr string) []string {
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)
	env := append(withoutParleyEnv(os.Environ()),
		"PARLEY_DATABASE_URL="+o.DatabaseURL, "PARLEY_REDIS_URL="+o.RedisURL,
		"PARLEY_HTTP_ADDR="+addr, "PARLEY_BASE_URL=http://"+addr,
		"PARLEY_SESSION_SECRET="+hex.EncodeToString(secret),
		// Warnings only: a benchmark should not measure request logging of
		// the connection storm; /metrics stays open (no token).
		"PARLEY_LOG_LEVEL=warn", "PARLEY_METRICS_TOKEN=")
	return append(env, o.ExtraEnv...)
}

// migrateAndSeed runs `migrate up` and `seed --demo` with bin.
func migrateAndSeed(ctx context.Context, bin string, env []string) error {
	for _, args := range [][]string{{"migrate", "up"}, {"seed", "--demo"}} {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		cmd := exec.CommandContext(cctx, bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			return fmt.Errorf("loadtest: %s %s: %w\n%s", bin, strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// prepareParley creates the database if missing, migrates it up and seeds
// the demo with o.Bin, without serving.
func prepareParley(ctx context.Context, o parleyOptions) error {
	if _, err := os.Stat(o.Bin); err != nil {
		return fmt.Errorf("loadtest: parley binary: %w (build it: make build, or go build -o bin/parley .)", err)
	}
	if err := ensureDatabase(ctx, o.DatabaseURL); err != nil {
		return err
	}
	return migrateAndSeed(ctx, o.Bin, parleyEnv(o, "127.0.0.1:0"))
}

// withoutParleyEnv drops PARLEY_* variables, so the caller's settings (a
// metrics token, another database) cannot leak into the server under test.
func withoutParleyEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PARLEY_") {
			out = append(out, kv)
		}
	}
	return out
}

// ensureDatabase creates dbURL's database if it does not exist, connecting
// to the maintenance database "postgres" of the same server.
func ensureDatabase(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return fmt.Errorf("loadtest: database url: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return fmt.Errorf("loadtest: database url %q names no database", dbURL)
	}
	admin := *u
	admin.Path = "/postgres"
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, admin.String())
	if err != nil {
		return fmt.Errorf("loadtest: connect to %s: %w", admin.Redacted(), err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(cctx, "select exists (select 1 from pg_database where datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("loadtest: look for database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(cctx, "create database "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("loadtest: create database %s: %w", name, err)
	}
	return nil
}

var (
	csrfRe     = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
	inboxRe    = regexp.MustCompile(`name="inbox" value="(\d+)"`)
	chatsSeqRe = regexp.MustCompile(`id="chats"[^>]*\sdata-seq="(\d+)"`)
)

// chatsSeq loads the chats page as a browser would and returns the event
// sequence it was rendered at: what the page's socket sends as "resume".
func (s *parleyServer) chatsSeq(ctx context.Context) (int64, error) {
	page, _, err := s.get(ctx, "/chats")
	if err != nil {
		return 0, err
	}
	m := chatsSeqRe.FindStringSubmatch(page)
	if m == nil {
		return 0, errors.New("loadtest: no data-seq on the chats page")
	}
	return strconv.ParseInt(m[1], 10, 64)
}

// login signs in and records the socket headers and the inbox id.
func (s *parleyServer) login(ctx context.Context, email, password string) error {
	jar, _ := cookiejar.New(nil)
	s.http = &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, _, err := s.get(ctx, "/login")
	if err != nil {
		return err
	}
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("loadtest: no csrf token on /login")
	}
	form := url.Values{"_csrf": {m[1]}, "email": {email}, "password": {password}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("loadtest: login: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("loadtest: login as %s: HTTP %d (is the demo seeded with this password?)", email, resp.StatusCode)
	}
	page, _, err = s.get(ctx, "/chats/new")
	if err != nil {
		return err
	}
	if m = inboxRe.FindStringSubmatch(page); m == nil {
		return fmt.Errorf("loadtest: no inbox on /chats/new (one visible inbox expected)")
	}
	s.inbox, _ = strconv.ParseInt(m[1], 10, 64)
	u, _ := url.Parse(s.base)
	s.header = http.Header{"Origin": {s.base}}
	for _, c := range jar.Cookies(u) {
		s.header.Add("Cookie", c.Name+"="+c.Value)
	}
	return nil
}

// get fetches path and returns the body.
func (s *parleyServer) get(ctx context.Context, path string) (string, int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	resp, err := s.http.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("loadtest: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", resp.StatusCode, fmt.Errorf("loadtest: GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), resp.StatusCode, fmt.Errorf("loadtest: GET %s: HTTP %d", path, resp.StatusCode)
	}
	return string(b), resp.StatusCode, nil
}

// metrics reads the unlabelled samples named in names from /metrics.
func (s *parleyServer) metrics(ctx context.Context, names ...string) (map[string]float64, error) {
	body, _, err := s.get(ctx, "/metrics")
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = f
		}
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return out, fmt.Errorf("loadtest: /metrics has no %s", n)
		}
	}
	return out, nil
}

// Stop ends the server (SIGTERM, then SIGKILL after 30s). Its log is
// removed after a clean exit and kept (and named) otherwise.
func (s *parleyServer) Stop() error {
	err := s.proc.Stop(30 * time.Second)
	if _, werr := s.proc.Exited(); err == nil && werr == nil {
		_ = os.Remove(s.logPath)
		return nil
	}
	return fmt.Errorf("loadtest: parley serve did not stop cleanly (log kept: %s): %w", s.logPath, errors.Join(err, s.proc.waitErr))
}

// tail returns the last n bytes of the file at path, for error messages.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
