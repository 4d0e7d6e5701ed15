package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// apiAuth resolves the bearer token to its user; the handlers then read
// sessionUser(c) as the pages do, with the token's user's role and scope.
// No token, a bad one, a revoked one or a disabled user's: 401.
func (s *Server) apiAuth(c *fiber.Ctx) error {
	if !underAPI(c.Path()) {
		return c.Next()
	}
	h := c.Get(fiber.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return unauthorized(c, "Send Authorization: Bearer <token>.")
	}
	su, err := s.store.UserByAPIToken(c.UserContext(), strings.TrimSpace(token))
	if errors.Is(err, models.ErrNotFound) {
		return unauthorized(c, "The token is not valid: unknown, revoked, or its user is disabled.")
	}
	if err != nil {
		return err
	}
	su.Scope.IP = clientIP(c, s.cfg.TrustedProxyPrefixes)
	c.Locals(localUser, su)
	return c.Next()
}

func unauthorized(c *fiber.Ctx, detail string) error {
	c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="parley"`)
	return writeProblem(c, http.StatusUnauthorized, detail)
}

// apiRateLimit allows each token PARLEY_API_RATE requests a minute, across
// every node (a GCRA in Redis); past that, 429 with Retry-After. When Redis
// does not answer, the request goes through: the limit protects the
// service, it must not take the API down with Redis.
func (s *Server) apiRateLimit() fiber.Handler {
	limiter := redis_rate.NewLimiter(s.rdb)
	limit := redis_rate.PerMinute(s.cfg.APIRate)
	return func(c *fiber.Ctx) error {
		su := sessionUser(c)
		if su == nil || !underAPI(c.Path()) {
			return c.Next()
		}
		res, err := limiter.Allow(c.UserContext(), fmt.Sprintf("parley:rate:api:%d", su.Scope.TokenID), limit)
		if err != nil {
			s.log.Warn("api rate limit unavailable", "err", err)
			return c.Next()
		}
		c.Set("RateLimit-Limit", strconv.Itoa(s.cfg.APIRate))
		c.Set("RateLimit-Remaining", strconv.Itoa(res.Remaining))
		if res.Allowed == 0 {
			secs := int((res.RetryAfter + time.Second - 1) / time.Second)
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(secs, 1)))
			return writeProblem(c, http.StatusTooManyRequests,
				fmt.Sprintf("More than %d requests a minute with this token; retry after the time in Retry-After.", s.cfg.APIRate))
		}
		return c.Next()
	}
}
