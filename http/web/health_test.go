package web_test

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/parley-chat/parley/models"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

func readyz(t *testing.T, f *fixture) (int, map[string]string) {
	resp, body := f.client(t).get("/readyz")
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("readyz body %q: %v", body, err)
	}
	return resp.StatusCode, m
}

func TestReadyz(t *testing.T) {
	t.Run("both up", func(t *testing.T) {
		code, m := readyz(t, newFixture(t))
		if code != 200 || m["postgres"] != "ok" || m["redis"] != "ok" {
			t.Fatalf("%d %v", code, m)
		}
	})
	t.Run("redis down", func(t *testing.T) {
		f := newFixtureWith(t, serverOpts{redisURL: "redis://127.0.0.1:1/0"})
		code, m := readyz(t, f)
		if code != http.StatusServiceUnavailable || m["postgres"] != "ok" || !strings.HasPrefix(m["redis"], "unavailable") {
			t.Fatalf("%d %v", code, m)
		}
	})
	t.Run("postgres down", func(t *testing.T) {
		cfg, err := pgx.ParseConfig("postgres://postgres@127.0.0.1:1/parley?sslmode=disable&connect_timeout=1")
		if err != nil {
			t.Fatal(err)
		}
		dead := bun.NewDB(sql.OpenDB(stdlib.GetConnector(*cfg)), pgdialect.New())
		t.Cleanup(func() { dead.Close() })
		f := newFixtureWith(t, serverOpts{db: models.NewStore(dead)})
		code, m := readyz(t, f)
		if code != http.StatusServiceUnavailable || !strings.HasPrefix(m["postgres"], "unavailable") || m["redis"] != "ok" {
			t.Fatalf("%d %v", code, m)
		}
	})
	if code, _ := readyz(t, newFixture(t)); code != 200 {
		t.Fatalf("healthy again: %d", code)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	if resp, body := c.get("/healthz"); resp.StatusCode != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz: %d %s", resp.StatusCode, body)
	}
	c.get("/login")
	resp, body := c.get("/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{`parley_http_requests_total{method="GET",route="/login",status="200"}`, "parley_hub_subscribers 0", "parley_hub_events_published_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestOversizedBodyRefused(t *testing.T) {
	f := newFixture(t)
	// Over the app's limit (the largest upload it admits, a CSV import):
	// fasthttp answers 413 as soon as it reads the Content-Length, before
	// the body; so speak HTTP by hand and read that answer.
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nemail=", 21<<20)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("21 MiB body: %d", resp.StatusCode)
	}
	// Over BodyLimit on a route that is not an upload: 413 once read.
	body := "email=" + strings.Repeat("a", 3<<20)
	r, err := http.Post(f.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("3 MiB login body: %d", r.StatusCode)
	}
}
