// Package testenv gives each test package its own real PostgreSQL database
// (created, migrated, dropped afterwards) and its own Redis database number,
// so packages run in parallel without seeing each other's rows or queues.
// A Redis database is taken only from the range PARLEY_TEST_REDIS_DBS grants
// and only while it is empty, so pointing the tests at a shared Redis never
// deletes data they did not create. It is for tests only.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// Env is what TestMain hands to a package's tests.
type Env struct {
	DatabaseURL string // a fresh, migrated database
	RedisURL    string // an empty Redis database nobody else uses during the run
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
	if fuzzingOnly() {
		return m.Run()
	}
	ctx := context.Background()
	admin := getenv("PARLEY_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	dbURL, drop, err := createDatabase(ctx, admin, name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n(set PARLEY_TEST_DATABASE_URL to a PostgreSQL database where tests may CREATE DATABASE; `make test` does)\n", err)
		return 1
	}
	defer drop()
	var redisURL string
	var release func()
	claim, err := redisClaimFromEnv()
	if err == nil {
		redisURL, release, err = claimRedis(ctx, claim)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n(set PARLEY_TEST_REDIS_URL and PARLEY_TEST_REDIS_DBS; see the README's Tests section)\n", err)
		return 1
	}
	defer release()
	*env = Env{DatabaseURL: dbURL, RedisURL: redisURL}
	return m.Run()
}

// fuzzingOnly reports whether this process only fuzzes (go test -fuzz with
// -run '^$', or one of its workers): a fuzz target of a package with a
// database needs none, and each worker claiming one would wait for a
// Redis database the others hold.
func fuzzingOnly() bool {
	if !flag.Parsed() {
		flag.Parse()
	}
	get := func(name string) string {
		if f := flag.Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	return get("test.fuzzworker") == "true" || (get("test.fuzz") != "" && get("test.run") == "^$")
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

// EmptyDatabase makes another fresh, migrated database next to the
// package's, with no rows at all (the package's own may hold other tests'
// organizations), for a test that needs an instance nobody has set up yet.
// It is dropped when the test ends; the URL is returned.
func EmptyDatabase(t testing.TB, name string) string {
	t.Helper()
	admin := getenv("PARLEY_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	dbURL, drop, err := createDatabase(context.Background(), admin, name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(drop)
	return dbURL
}
