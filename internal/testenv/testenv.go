// Package testenv gives each test package its own real PostgreSQL database
// (created, migrated, dropped afterwards) and its own Redis database number,
// so packages run in parallel without seeing each other's rows or queues.
// It is for tests only.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
	"github.com/redis/go-redis/v9"
)

// Env is what TestMain hands to a package's tests.
type Env struct {
	DatabaseURL string // a fresh, migrated database
	RedisURL    string // a Redis database number nobody else uses during the run
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Main creates the package's database and Redis DB, runs the tests, cleans
// up, and returns the exit code for os.Exit. name labels the database.
func Main(m *testing.M, name string, env *Env) int {
	ctx := context.Background()
	admin := getenv("PARLEY_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	dbURL, drop, err := createDatabase(ctx, admin, name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n(set PARLEY_TEST_DATABASE_URL to a PostgreSQL database where tests may CREATE DATABASE; `make test` does)\n", err)
		return 1
	}
	defer drop()
	redisURL, release, err := claimRedis(ctx, getenv("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n(set PARLEY_TEST_REDIS_URL; `make test` does)\n", err)
		return 1
	}
	defer release()
	*env = Env{DatabaseURL: dbURL, RedisURL: redisURL}
	return m.Run()
}

// createDatabase makes a uniquely named database next to admin's and migrates it.
func createDatabase(ctx context.Context, admin, name string) (string, func(), error) {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	dbName := fmt.Sprintf("parley_test_%s_%s", strings.ReplaceAll(name, "-", "_"), hex.EncodeToString(suffix))
	adminDB, err := models.OpenDB(ctx, admin)
	if err != nil {
		return "", nil, err
	}
	if _, err := adminDB.ExecContext(ctx, "CREATE DATABASE "+dbName); err != nil {
		adminDB.Close()
		return "", nil, fmt.Errorf("create database %s: %w", dbName, err)
	}
	u, _ := url.Parse(admin)
	u.Path = "/" + dbName
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := adminDB.ExecContext(dctx, "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: drop %s: %v\n", dbName, err)
		}
		adminDB.Close()
	}
	db, err := models.OpenDB(ctx, u.String())
	if err != nil {
		drop()
		return "", nil, err
	}
	defer db.Close()
	mg, err := models.NewMigrator(db)
	if err == nil {
		_, err = mg.Up(ctx)
	}
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("migrate %s: %w", dbName, err)
	}
	return u.String(), drop, nil
}

// claimRedis locks one of Redis databases 1–15 for this process (the lock
// lives in database 0 and expires if the process dies), flushes it and
// returns its URL.
func claimRedis(ctx context.Context, base string) (string, func(), error) {
	opt, err := redis.ParseURL(base)
	if err != nil {
		return "", nil, fmt.Errorf("parse redis url: %w", err)
	}
	opt.DB = 0
	lockc := redis.NewClient(opt)
	token := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for n := 1; n <= 15; n++ {
			key := fmt.Sprintf("parley:testlock:%d", n)
			ok, err := lockc.SetNX(ctx, key, token, 30*time.Minute).Result()
			if err != nil {
				lockc.Close()
				return "", nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
			}
			if !ok {
				continue
			}
			dbOpt := *opt
			dbOpt.DB = n
			c := redis.NewClient(&dbOpt)
			err = c.FlushDB(ctx).Err()
			c.Close()
			if err != nil {
				lockc.Del(ctx, key)
				lockc.Close()
				return "", nil, fmt.Errorf("flush redis db %d: %w", n, err)
			}
			u, _ := url.Parse(base)
			u.Path = fmt.Sprintf("/%d", n)
			release := func() {
				if v, _ := lockc.Get(context.Background(), key).Result(); v == token {
					lockc.Del(context.Background(), key)
				}
				lockc.Close()
			}
			return u.String(), release, nil
		}
		if time.Now().After(deadline) {
			lockc.Close()
			return "", nil, fmt.Errorf("no free redis database among 1-15 after 2 minutes")
		}
		time.Sleep(500 * time.Millisecond)
	}
}
