package config

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

const goodSecret = "0123456789abcdef0123456789abcdef"

func TestParseNamesTheBadVariable(t *testing.T) {
	for _, tc := range []struct {
		name, key, value string
	}{
		{"database url", "PARLEY_DATABASE_URL", "mysql://x"},
		{"redis url", "PARLEY_REDIS_URL", "localhost:6379"},
		{"http addr", "PARLEY_HTTP_ADDR", "8080"},
		{"base url", "PARLEY_BASE_URL", "ftp://x"},
		{"short secret", "PARLEY_SESSION_SECRET", "short"},
		{"log format", "PARLEY_LOG_FORMAT", "xml"},
		{"log level", "PARLEY_LOG_LEVEL", "loud"},
		{"duration", "PARLEY_SESSION_TTL", "forever"},
		{"concurrency", "PARLEY_WORKER_CONCURRENCY", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"PARLEY_SESSION_SECRET": goodSecret, tc.key: tc.value}
			_, _, err := Parse("serve", nil, env(vars), &bytes.Buffer{}, Options{Web: true})
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("got %v, want an error naming %s", err, tc.key)
			}
		})
	}
}

func TestParseDefaultsEnvAndFlags(t *testing.T) {
	c, rest, err := Parse("serve", []string{"-http-addr", "127.0.0.1:9999", "extra"},
		env(map[string]string{"PARLEY_SESSION_SECRET": goodSecret, "PARLEY_HTTP_ADDR": "127.0.0.1:7777", "PARLEY_BASE_URL": "https://chat.example.org"}),
		&bytes.Buffer{}, Options{Web: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9999" {
		t.Errorf("flag should beat env: %s", c.HTTPAddr)
	}
	if c.RedisURL != "redis://127.0.0.1:6379/0" {
		t.Errorf("default redis url: %s", c.RedisURL)
	}
	if c.SessionSecret != goodSecret || !c.SecureCookies() {
		t.Errorf("secret from env / secure cookies: %q %v", c.SessionSecret, c.SecureCookies())
	}
	if len(rest) != 1 || rest[0] != "extra" {
		t.Errorf("rest: %v", rest)
	}
}

func TestSecretNotRequiredOutsideWeb(t *testing.T) {
	if _, _, err := Parse("migrate", nil, env(nil), &bytes.Buffer{}, Options{}); err != nil {
		t.Fatalf("migrate should not need a session secret: %v", err)
	}
}

func TestHelpListsVariablesButNoSecrets(t *testing.T) {
	var out bytes.Buffer
	_, _, err := Parse("serve", []string{"--help"}, env(map[string]string{"PARLEY_SESSION_SECRET": goodSecret, "PARLEY_METRICS_TOKEN": "tok-secret-value"}), &out, Options{Web: true})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("want ErrHelp, got %v", err)
	}
	for _, want := range []string{"PARLEY_DATABASE_URL", "PARLEY_REDIS_URL", "PARLEY_HTTP_ADDR", "PARLEY_BASE_URL", "PARLEY_SESSION_SECRET", "default \"127.0.0.1:8080\""} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if strings.Contains(out.String(), goodSecret) || strings.Contains(out.String(), "tok-secret-value") {
		t.Errorf("help printed a secret:\n%s", out.String())
	}
}

func TestTrustedProxies(t *testing.T) {
	c, _, err := Parse("serve", nil, env(map[string]string{"PARLEY_SESSION_SECRET": goodSecret,
		"PARLEY_TRUSTED_PROXIES": " 10.1.2.3/8, 192.0.2.7 ,2001:db8::/32,,"}), &bytes.Buffer{}, Options{Web: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxyPrefixes {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.0.2.7/32 2001:db8::/32" {
		t.Errorf("trusted proxies parsed as %v", got)
	}
	if _, _, err := Parse("serve", nil, env(map[string]string{"PARLEY_SESSION_SECRET": goodSecret,
		"PARLEY_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"}), &bytes.Buffer{}, Options{Web: true}); err == nil ||
		!strings.Contains(err.Error(), "PARLEY_TRUSTED_PROXIES") || !strings.Contains(err.Error(), "proxy.internal") {
		t.Errorf("a host name among the trusted proxies: %v, want an error naming the variable and the value", err)
	}
	var out bytes.Buffer
	if _, _, err := Parse("serve", []string{"--help"}, env(map[string]string{"PARLEY_SESSION_SECRET": goodSecret}), &out, Options{Web: true}); !errors.Is(err, flag.ErrHelp) ||
		!strings.Contains(out.String(), "PARLEY_TRUSTED_PROXIES") {
		t.Errorf("--help does not list PARLEY_TRUSTED_PROXIES (%v)", err)
	}
}
