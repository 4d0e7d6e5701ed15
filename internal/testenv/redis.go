package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisDBs is the range of Redis databases tests may claim when
// PARLEY_TEST_REDIS_DBS is unset: everything a stock redis-server (16
// databases) offers besides 0, the usual application database. Only empty
// databases are ever taken, so a shared server's data is left alone.
const DefaultRedisDBs = "1-15"

const (
	// lockPrefix + n is the lock on database n. It lives in the database
	// PARLEY_TEST_REDIS_URL names and expires if its process dies.
	lockPrefix = "parley:testlock:"
	lockTTL    = 30 * time.Minute
	// markerKey is written into a database when the tests claim it empty;
	// its value names the lock database and the claiming process.
	markerKey = "parley:testenv:claim"
)

// redisClaim says where the tests may take a Redis database of their own.
type redisClaim struct {
	URL  string        // the server, and the database that holds the locks
	DBs  []int         // the databases the tests may take
	Spec string        // DBs as the user wrote them, for messages
	Wait time.Duration // how long to wait while other test processes hold them all
}

// redisClaimFromEnv reads PARLEY_TEST_REDIS_URL and PARLEY_TEST_REDIS_DBS.
func redisClaimFromEnv() (redisClaim, error) {
	spec := getenv("PARLEY_TEST_REDIS_DBS", DefaultRedisDBs)
	dbs, err := parseDBs(spec)
	if err != nil {
		return redisClaim{}, fmt.Errorf("PARLEY_TEST_REDIS_DBS=%q: %w", spec, err)
	}
	return redisClaim{
		URL:  getenv("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
		DBs:  dbs,
		Spec: spec,
		// Long enough for a whole `go test ./...` when fewer databases
		// are granted than packages run at once.
		Wait: 10 * time.Minute,
	}, nil
}

// parseDBs reads a list such as "1-15" or "3,5-7" into database numbers.
// Database 0 is refused: it is where applications keep their data.
func parseDBs(spec string) ([]int, error) {
	var dbs []int
	seen := map[int]bool{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("%q is not a database number or a range like 1-15", part)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil || last < first {
				return nil, fmt.Errorf("%q is not a range like 1-15", part)
			}
		}
		if first < 1 {
			return nil, fmt.Errorf("%q includes database 0 or less; tests take only databases from 1 up", part)
		}
		for n := first; n <= last; n++ {
			if !seen[n] {
				seen[n] = true
				dbs = append(dbs, n)
			}
		}
	}
	return dbs, nil
}

// takeDB marks the selected database as the tests' own if it is empty. It
// also takes back a database that still carries the marker of an earlier
// run locked through the same lock database (ARGV[2] is the marker's
// prefix): that run's lock is gone, since we now hold it. Anything else
// holds data the tests did not create and is left untouched (0).
var takeDB = redis.NewScript(`
if redis.call('DBSIZE') == 0 then
	redis.call('SET', KEYS[1], ARGV[1])
	return 1
end
local m = redis.pcall('GET', KEYS[1])
if type(m) == 'string' and string.sub(m, 1, #ARGV[2]) == ARGV[2] then
	redis.call('FLUSHDB')
	redis.call('SET', KEYS[1], ARGV[1])
	return 2
end
return 0
`)

// unlock deletes a lock only if it is still the caller's.
var unlock = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)

// claimRedis locks one of c.DBs for this process and returns its URL. The
// lock lives in the database c.URL names. A database is taken only if it is
// empty (or holds nothing but an earlier run's marker and leftovers); one
// with foreign keys is skipped and never written to. release flushes the
// database while the lock is still ours (it held nothing else when marked)
// and removes the lock.
func claimRedis(ctx context.Context, c redisClaim) (string, func(), error) {
	opt, err := redis.ParseURL(c.URL)
	if err != nil {
		return "", nil, fmt.Errorf("parse PARLEY_TEST_REDIS_URL: %w", err)
	}
	home := opt.DB
	lockc := redis.NewClient(opt)
	token := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	markerPrefix := fmt.Sprintf("home=%d ", home)
	deadline := time.Now().Add(c.Wait)
	for {
		busy := 0
		var foreign []int
		for _, n := range c.DBs {
			if n == home {
				continue // it holds the locks
			}
			key := lockPrefix + strconv.Itoa(n)
			ok, err := lockc.SetNX(ctx, key, token, lockTTL).Result()
			if err != nil {
				lockc.Close()
				return "", nil, fmt.Errorf("lock redis db %d at %s: %w", n, opt.Addr, err)
			}
			if !ok {
				busy++
				continue
			}
			dbOpt := *opt
			dbOpt.DB = n
			dbc := redis.NewClient(&dbOpt)
			took, err := takeDB.Run(ctx, dbc, []string{markerKey}, markerPrefix+token, markerPrefix).Int()
			if err != nil || took == 0 {
				dbc.Close()
				unlock.Run(ctx, lockc, []string{key}, token)
				if err != nil {
					lockc.Close()
					return "", nil, fmt.Errorf("claim redis db %d (PARLEY_TEST_REDIS_DBS=%s): %w", n, c.Spec, err)
				}
				foreign = append(foreign, n)
				continue
			}
			release := func() {
				rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				defer lockc.Close()
				defer dbc.Close()
				if v, _ := lockc.Get(rctx, key).Result(); v != token {
					return // expired: the database may be someone else's by now
				}
				if err := dbc.FlushDB(rctx).Err(); err != nil {
					fmt.Fprintf(os.Stderr, "testenv: flush redis db %d: %v\n", n, err)
				}
				unlock.Run(rctx, lockc, []string{key}, token)
			}
			return redisURLWithDB(c.URL, n), release, nil
		}
		if busy == 0 {
			lockc.Close()
			return "", nil, fmt.Errorf("%w: PARLEY_TEST_REDIS_DBS=%s grants %v; %v hold keys the tests did not create (empty them or grant others)",
				errNoRedisDB, c.Spec, c.DBs, foreign)
		}
		if time.Now().After(deadline) {
			lockc.Close()
			return "", nil, fmt.Errorf("%w: other test processes held PARLEY_TEST_REDIS_DBS=%s for %s", errNoRedisDB, c.Spec, c.Wait)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// errNoRedisDB is claimRedis's failure when no granted database can be taken.
var errNoRedisDB = errors.New("no free redis database")

// redisURLWithDB is base pointing at database n.
func redisURLWithDB(base string, n int) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + strconv.Itoa(n)
	return u.String()
}
