package testenv

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ownDB claims a database the way Main does and gives it to the test for
// the test's lifetime, returning its number and a client on it. Other test
// processes skip it because its lock is held.
func ownDB(t *testing.T) (int, *redis.Client) {
	t.Helper()
	c, err := redisClaimFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	c.Wait = 2 * time.Minute
	u, release, err := claimRedis(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return opt.DB, rdb
}

// homeURL is PARLEY_TEST_REDIS_URL pointing at database n.
func homeURL(t *testing.T, n int) string {
	t.Helper()
	c, err := redisClaimFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	return redisURLWithDB(c.URL, n)
}

func dbOf(t *testing.T, u string) int {
	t.Helper()
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	return opt.DB
}

// A database holding a key the tests did not create is skipped for the next
// granted one, and neither its key nor anything else in it is touched; with
// only such databases granted the claim fails at once instead of waiting.
func TestClaimRedisSkipsForeignDB(t *testing.T) {
	ctx := context.Background()
	home, homec := ownDB(t)
	foreign, foreignc := ownDB(t)
	free, freec := ownDB(t)
	// Make foreign look like someone else's database (its outer lock, still
	// ours, keeps other test processes away).
	if err := foreignc.Del(ctx, markerKey).Err(); err != nil {
		t.Fatal(err)
	}
	if err := foreignc.Set(ctx, "someone:else", "theirs", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := freec.FlushDB(ctx).Err(); err != nil { // ours: empty it for the nested claim
		t.Fatal(err)
	}
	assertForeignIntact := func(when string) {
		t.Helper()
		if v, err := foreignc.Get(ctx, "someone:else").Result(); err != nil || v != "theirs" {
			t.Fatalf("%s: foreign key is %q (%v), want it untouched", when, v, err)
		}
		if n := foreignc.DBSize(ctx).Val(); n != 1 {
			t.Fatalf("%s: foreign db holds %d keys, want only the foreign one", when, n)
		}
	}

	u, release, err := claimRedis(ctx, redisClaim{URL: homeURL(t, home), DBs: []int{foreign, free}, Spec: "test", Wait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got := dbOf(t, u); got != free {
		t.Fatalf("claimed db %d, want %d (db %d holds a foreign key)", got, free, foreign)
	}
	assertForeignIntact("after the claim")
	if err := freec.Set(ctx, "made:by:tests", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	release()
	if n := freec.DBSize(ctx).Val(); n != 0 {
		t.Errorf("after release the claimed db holds %d keys, want 0", n)
	}
	if n := homec.Exists(ctx, lockPrefix+strconv.Itoa(free)).Val(); n != 0 {
		t.Errorf("lock on db %d left behind after release", free)
	}
	assertForeignIntact("after the release")

	start := time.Now()
	_, _, err = claimRedis(ctx, redisClaim{URL: homeURL(t, home), DBs: []int{foreign}, Spec: "test", Wait: time.Minute})
	if !errors.Is(err, errNoRedisDB) {
		t.Fatalf("claiming only the foreign db: %v, want errNoRedisDB", err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(foreign)) {
		t.Errorf("error %q does not name db %d", err, foreign)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("refusing took %s: nothing to wait for", d)
	}
	if n := homec.Exists(ctx, lockPrefix+strconv.Itoa(foreign)).Val(); n != 0 {
		t.Errorf("lock on the refused db %d left behind", foreign)
	}
	assertForeignIntact("after the refusal")
}

// The lock on a claimed database lives in the database the URL names, and
// the claimed database carries the marker naming that lock database.
func TestClaimRedisLockInURLDB(t *testing.T) {
	ctx := context.Background()
	home, homec := ownDB(t)
	target, targetc := ownDB(t)
	if err := targetc.FlushDB(ctx).Err(); err != nil { // ours: empty it for the nested claim
		t.Fatal(err)
	}

	u, release, err := claimRedis(ctx, redisClaim{URL: homeURL(t, home), DBs: []int{target}, Spec: "test", Wait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if got := dbOf(t, u); got != target {
		t.Fatalf("claimed db %d, want %d", got, target)
	}
	lock, err := homec.Get(ctx, lockPrefix+strconv.Itoa(target)).Result()
	if err != nil {
		t.Fatalf("no lock for db %d in the URL's db %d: %v", target, home, err)
	}
	if ttl := homec.TTL(ctx, lockPrefix+strconv.Itoa(target)).Val(); ttl <= 0 {
		t.Errorf("lock has TTL %s, want it to expire if the process dies", ttl)
	}
	marker, err := targetc.Get(ctx, markerKey).Result()
	if err != nil {
		t.Fatalf("no marker in the claimed db: %v", err)
	}
	if want := "home=" + strconv.Itoa(home) + " " + lock; marker != want {
		t.Errorf("marker %q, want %q", marker, want)
	}
}

// A database left with an earlier run's marker (its process died, its lock
// expired) is taken back; one marked through another lock database is not.
func TestClaimRedisReclaimsOwnLeftovers(t *testing.T) {
	ctx := context.Background()
	home, _ := ownDB(t)
	target, targetc := ownDB(t)
	claim := redisClaim{URL: homeURL(t, home), DBs: []int{target}, Spec: "test", Wait: 5 * time.Second}

	targetc.FlushDB(ctx)
	targetc.Set(ctx, markerKey, "home="+strconv.Itoa(home+100)+" 1-1", 0)
	targetc.Set(ctx, "asynq:leftover", "x", 0)
	if _, _, err := claimRedis(ctx, claim); !errors.Is(err, errNoRedisDB) {
		t.Fatalf("db marked through another lock db: %v, want errNoRedisDB", err)
	}
	if n := targetc.DBSize(ctx).Val(); n != 2 {
		t.Fatalf("refused db holds %d keys, want its 2 untouched", n)
	}

	targetc.Set(ctx, markerKey, "home="+strconv.Itoa(home)+" 1-1", 0)
	_, release, err := claimRedis(ctx, claim)
	if err != nil {
		t.Fatalf("db with our own stale marker: %v", err)
	}
	defer release()
	keys := targetc.Keys(ctx, "*").Val()
	if !slices.Equal(keys, []string{markerKey}) {
		t.Errorf("after taking back, the db holds %v, want only the new marker", keys)
	}
}

func TestParseDBs(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		want       []int
		bad        bool
	}{
		{name: "default", spec: DefaultRedisDBs, want: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
		{name: "one", spec: "7", want: []int{7}},
		{name: "list", spec: "3, 5-6,5", want: []int{3, 5, 6}},
		{name: "zero", spec: "0-3", bad: true},
		{name: "backwards", spec: "5-3", bad: true},
		{name: "word", spec: "all", bad: true},
		{name: "empty", spec: "", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDBs(tc.spec)
			if tc.bad {
				if err == nil {
					t.Fatalf("parseDBs(%q) = %v, want an error", tc.spec, got)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("parseDBs(%q) = %v, %v; want %v", tc.spec, got, err, tc.want)
			}
		})
	}
}
