package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// loginThrottle counts failed sign-ins per email and per client address in
// fixed windows in Redis, shared by every node. Past a limit, sign-in is
// refused without checking the password.
type loginThrottle struct {
	rdb      redis.UniversalClient
	window   time.Duration
	perEmail int64
	perIP    int64
}

func (t *loginThrottle) keys(email, ip string) (string, string) {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "parley:login:email:" + hex.EncodeToString(sum[:12]), "parley:login:ip:" + ip
}

// Blocked reports whether this email or address has failed too often.
func (t *loginThrottle) Blocked(ctx context.Context, email, ip string) (bool, error) {
	ek, ik := t.keys(email, ip)
	vals, err := t.rdb.MGet(ctx, ek, ik).Result()
	if err != nil {
		return false, fmt.Errorf("web: login throttle: %w", err)
	}
	return count(vals[0]) >= t.perEmail || count(vals[1]) >= t.perIP, nil
}

// Failed records one failed attempt.
func (t *loginThrottle) Failed(ctx context.Context, email, ip string) error {
	ek, ik := t.keys(email, ip)
	_, err := t.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range []string{ek, ik} {
			p.Incr(ctx, k)
			p.ExpireNX(ctx, k, t.window)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("web: login throttle: %w", err)
	}
	return nil
}

// Succeeded forgets the email's failures.
func (t *loginThrottle) Succeeded(ctx context.Context, email string) error {
	ek, _ := t.keys(email, "")
	return t.rdb.Del(ctx, ek).Err()
}

func count(v any) int64 {
	s, _ := v.(string)
	var n int64
	fmt.Sscan(s, &n)
	return n
}
