package loadtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/models"
)

// B5 and B6 on generated data: the Chats page (the list, a name search, a
// phone search however typed) and the Recipients search, each requested
// by N clients back to back for a fixed time, against one or more Parley
// binaries in turn (e.g. the base commit's and this one's) on the same
// database. The ceiling, measured in the same run on the same data, is
// the store call behind each page alone (models.Store, no HTTP, no
// template), from the same number of goroutines.

// chatsQuery is one measured request.
type chatsQuery struct {
	Name string
	Path string
	// Store is the same data through the store alone (the ceiling).
	Store func(ctx context.Context, st *models.Store, sc models.Scope) (int, error)
}

// chatsQueries are the requests -queries may name.
var chatsQueries = []chatsQuery{
	{Name: "list", Path: "/chats", Store: storeConversations("")},
	{Name: "mart", Path: "/chats?q=mart", Store: storeConversations("mart")},
	{Name: "phone", Path: "/chats?q=" + url.QueryEscape("765-4321"), Store: storeConversations("765-4321")},
	{Name: "phone-full", Path: "/chats?q=" + url.QueryEscape("(555) 765-4321"), Store: storeConversations("(555) 765-4321")},
	// Message text (B5): a word in about one message in ten, one in a
	// few hundred, one in ten messages of a million, two words that must
	// both appear, and a phrase.
	{Name: "text-common", Path: "/chats?q=thanks", Store: storeConversations("thanks")},
	{Name: "text-uncommon", Path: "/chats?q=wombat", Store: storeConversations("wombat")},
	{Name: "text-rare", Path: "/chats?q=zucchini", Store: storeConversations("zucchini")},
	{Name: "text-words", Path: "/chats?q=" + url.QueryEscape("parking tuesday"), Store: storeConversations("parking tuesday")},
	{Name: "text-phrase", Path: "/chats?q=" + url.QueryEscape(`"free parking"`), Store: storeConversations(`"free parking"`)},
	{Name: "recipients", Path: "/recipients?q=mart", Store: func(ctx context.Context, st *models.Store, sc models.Scope) (int, error) {
		p, err := st.Recipients(ctx, sc, "mart", 0, 0)
		if err != nil {
			return 0, err
		}
		return len(p.Recipients), nil
	}},
}

// storeConversations is the Chats list's store call for a search text.
func storeConversations(q string) func(ctx context.Context, st *models.Store, sc models.Scope) (int, error) {
	return func(ctx context.Context, st *models.Store, sc models.Scope) (int, error) {
		p, err := st.Conversations(ctx, sc, models.ConversationFilter{Query: q})
		if err != nil {
			return 0, err
		}
		return len(p.Rows), nil
	}
}

// chatsOptions configures the scenario.
type chatsOptions struct {
	common
	Data     chatsDataOptions
	Clients  int
	Duration time.Duration
	Warm     time.Duration
	Rounds   int
	Queries  string
	Keep     bool
	// ProfileDir, when set, gets a CPU profile of each server per query
	// and round, taken while it is measured.
	ProfileDir string
}

// chatsResult is one (round, server, query) measurement.
type chatsResult struct {
	Round  int
	Server string // a binary, or "store" for the ceiling
	Query  string
	Dist   *Distribution
	Secs   float64
	Errors int
	Rows   int     // rows the last answer listed
	CPUms  float64 // server CPU per request, ms (NaN for the ceiling)
}

func runChatsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o chatsOptions
	fs := flag.NewFlagSet("bench chats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.registerTargets(fs, 30*time.Minute, "parley", `unused: every -bin is measured, then the store alone`)
	fs.Lookup("bin").Usage = "the parley binaries to measure in turn, comma-separated (e.g. the base commit's and this one's)"
	fs.Lookup("database-url").DefValue = "postgres://postgres@127.0.0.1:5432/parley_bench_chats?sslmode=disable"
	_ = fs.Set("database-url", fs.Lookup("database-url").DefValue)
	fs.IntVar(&o.Data.Conversations, "conversations", 100_000, "recipients and conversations to generate")
	fs.IntVar(&o.Data.Messages, "messages", 1_000_000, "messages to generate, spread evenly over the conversations")
	fs.IntVar(&o.Clients, "clients", 4, "clients requesting at once, back to back")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long each query is measured, per server and round")
	fs.DurationVar(&o.Warm, "warm", 2*time.Second, "unmeasured requests before each measurement")
	fs.IntVar(&o.Rounds, "rounds", 2, "rounds; each measures every server in turn")
	names := make([]string, len(chatsQueries))
	for i, q := range chatsQueries {
		names[i] = q.Name
	}
	fs.StringVar(&o.Queries, "queries", strings.Join(names, ","), "requests to measure: "+strings.Join(names, ", "))
	fs.BoolVar(&o.Keep, "keep", false, "keep the generated database for the next run (default: drop it at the end)")
	fs.StringVar(&o.ProfileDir, "profile-dir", "", "write a CPU profile of each server per query and round, taken while it is measured, and its allocations since it started")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case o.Data.Conversations <= 0 || o.Data.Conversations > 2_000_000:
		return errors.New("loadtest: -conversations must be in [1, 2,000,000]")
	case o.Data.Messages < 0 || o.Data.Messages > 20_000_000:
		return errors.New("loadtest: -messages must be in [0, 20,000,000]")
	case o.Clients <= 0 || o.Clients > 64:
		return errors.New("loadtest: -clients must be in [1, 64]")
	case o.Duration <= 0 || o.Duration > 5*time.Minute || o.Rounds <= 0 || o.Rounds > 10:
		return errors.New("loadtest: -duration must be in (0, 5m], -rounds in [1, 10]")
	}
	var queries []chatsQuery
	for n := range strings.SplitSeq(o.Queries, ",") {
		found := false
		for _, q := range chatsQueries {
			if q.Name == strings.TrimSpace(n) {
				queries, found = append(queries, q), true
			}
		}
		if !found {
			return fmt.Errorf("loadtest: unknown query %q (%s)", n, strings.Join(names, ", "))
		}
	}
	bins := strings.Split(o.Bin, ",")

	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	s, err := o.common.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	if !o.Keep {
		defer func() {
			dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer dcancel()
			if err := dropDatabase(dctx, o.DatabaseURL); err != nil {
				fmt.Fprintln(stderr, err)
			} else {
				fmt.Fprintf(stderr, "dropped database %s\n", databaseName(o.DatabaseURL))
			}
		}()
	}
	// Every binary migrates (the newest schema wins; an older binary
	// ignores migrations it does not know), then the data is generated once.
	if err := ensureDatabase(ctx, o.DatabaseURL); err != nil {
		return err
	}
	for _, bin := range bins {
		po := s.parleyOptions()
		po.Bin = bin
		if err := prepareParley(ctx, po); err != nil {
			return err
		}
	}
	if err := generateChatsData(ctx, o.DatabaseURL, o.Data, stderr); err != nil {
		return err
	}

	var results []chatsResult
	for round := 1; round <= o.Rounds; round++ {
		for _, bin := range bins {
			rs, err := chatsServer(ctx, s, o, bin, round, queries)
			if err != nil {
				return fmt.Errorf("loadtest: chats %s: %w", bin, err)
			}
			results = append(results, rs...)
		}
		rs, err := chatsStore(ctx, o, round, queries)
		if err != nil {
			return fmt.Errorf("loadtest: chats store: %w", err)
		}
		results = append(results, rs...)
	}
	printChats(stdout, o, queries, results)
	return nil
}

// chatsServer starts one binary and measures every query on it.
func chatsServer(ctx context.Context, s *session, o chatsOptions, bin string, round int, queries []chatsQuery) ([]chatsResult, error) {
	po := s.parleyOptions()
	po.Bin = bin
	var pprofURL string
	if o.ProfileDir != "" {
		addr, err := freeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		po.ExtraEnv = append(po.ExtraEnv, "PARLEY_PPROF_ADDR="+addr)
		pprofURL = "http://" + addr
	}
	srv, err := startParley(ctx, po, s.progress)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(s.progress, err)
		}
	}()
	var out []chatsResult
	for _, q := range queries {
		get := func(ctx context.Context) (int, error) {
			body, _, err := srv.get(ctx, q.Path)
			if err != nil {
				return 0, err
			}
			if q.Name == "recipients" {
				return strings.Count(body, "<tr>") - 1, nil // less the header row
			}
			return strings.Count(body, `class="conv-row`), nil
		}
		profiled := make(chan error, 1)
		if pprofURL != "" {
			path := filepath.Join(o.ProfileDir, fmt.Sprintf("chats-%s-%s-r%d.pprof", filepath.Base(bin), q.Name, round))
			go func() {
				time.Sleep(o.Warm) // the measured part only
				err := fetchProfile(ctx, pprofURL, o.Duration, path)
				if err == nil { // and what was allocated since the server started
					err = fetchPprof(ctx, pprofURL+"/debug/pprof/allocs", strings.TrimSuffix(path, ".pprof")+"-allocs.pprof")
				}
				profiled <- err
			}()
		} else {
			profiled <- nil
		}
		cpu0, _ := cpuSeconds(srv.proc.PID())
		r, n, err := measureChats(ctx, o, get)
		if perr := <-profiled; perr != nil {
			fmt.Fprintf(s.progress, "profile %s: %v\n", q.Name, perr)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.Name, err)
		}
		cpu1, _ := cpuSeconds(srv.proc.PID())
		r.Round, r.Server, r.Query = round, bin, q.Name
		r.CPUms = Ratio((cpu1-cpu0)*1000, float64(n))
		fmt.Fprintf(s.progress, "round %d %s %s: p50 %s p95 %s ms, %d requests, %d rows, %d errors\n", round, bin, q.Name,
			fmtMs(r.Dist.Quantile(0.5)), fmtMs(r.Dist.Quantile(0.95)), r.Dist.Count(), r.Rows, r.Errors)
		out = append(out, r)
	}
	return out, nil
}

// chatsStore measures the store calls alone: the ceiling.
func chatsStore(ctx context.Context, o chatsOptions, round int, queries []chatsQuery) ([]chatsResult, error) {
	db, err := models.OpenDB(ctx, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	st := models.NewStore(db)
	// The agent's scope, as its session resolves it.
	user, err := st.Authenticate(ctx, o.Email, o.Password)
	if err != nil {
		return nil, err
	}
	token, err := st.CreateSession(ctx, user.ID, time.Hour, "127.0.0.1", "parley bench chats")
	if err != nil {
		return nil, err
	}
	su, err := st.SessionByToken(ctx, token, time.Hour)
	if err != nil {
		return nil, err
	}
	sc := su.Scope
	var out []chatsResult
	for _, q := range queries {
		r, _, err := measureChats(ctx, o, func(ctx context.Context) (int, error) { return q.Store(ctx, st, sc) })
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.Name, err)
		}
		r.Round, r.Server, r.Query, r.CPUms = round, "store", q.Name, nanValue
		out = append(out, r)
	}
	return out, nil
}

// measureChats warms up, then runs do from o.Clients goroutines back to
// back for o.Duration and returns the latencies and the request count.
func measureChats(ctx context.Context, o chatsOptions, do func(context.Context) (int, error)) (chatsResult, int, error) {
	var (
		h      Histogram
		mu     sync.Mutex
		errs   int
		rows   int
		lastEr error
	)
	run := func(d time.Duration, record bool) {
		end := time.Now().Add(d)
		var wg sync.WaitGroup
		for range o.Clients {
			wg.Go(func() {
				for time.Now().Before(end) && ctx.Err() == nil {
					t := time.Now()
					n, err := do(ctx)
					el := time.Since(t)
					if !record {
						continue
					}
					mu.Lock()
					if err != nil {
						errs++
						lastEr = err
					} else {
						h.Record(el)
						rows = n
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	run(o.Warm, false)
	start := time.Now()
	run(o.Duration, true)
	r := chatsResult{Dist: h.Snapshot(), Secs: time.Since(start).Seconds(), Errors: errs, Rows: rows}
	if err := ctx.Err(); err != nil {
		return r, 0, err
	}
	if r.Dist.Count() == 0 {
		return r, 0, fmt.Errorf("no request succeeded: %w", lastEr)
	}
	return r, int(r.Dist.Count()) + errs, nil
}

// printChats writes the results as a Markdown table.
func printChats(w io.Writer, o chatsOptions, queries []chatsQuery, rs []chatsResult) {
	fmt.Fprintf(w, "## Chats page and search (B5, B6), %s\n\n", time.Now().Format("2006-01-02"))
	fmt.Fprintf(w, "Machine: %s; load average at the end %s.\n", machine(), loadAverage())
	fmt.Fprintf(w, "Data: %d conversations (one per recipient), %d messages; %d clients back to back, %s per measurement, %d rounds.\n\n",
		o.Data.Conversations, o.Data.Messages, o.Clients, o.Duration, o.Rounds)
	fmt.Fprintln(w, "| round | server | request | requests/s | p50 ms | p95 ms | p99 ms | server CPU ms/request | rows | errors |")
	fmt.Fprintln(w, "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, q := range queries {
		for _, r := range rs {
			if r.Query != q.Name {
				continue
			}
			fmt.Fprintf(w, "| %d | %s | %s | %.0f | %s | %s | %s | %s | %d | %d |\n", r.Round, r.Server, q.Path,
				float64(r.Dist.Count())/r.Secs, fmtMs(r.Dist.Quantile(0.5)), fmtMs(r.Dist.Quantile(0.95)),
				fmtMs(r.Dist.Quantile(0.99)), fmtFloat(r.CPUms, 2), r.Rows, r.Errors)
		}
	}
}
