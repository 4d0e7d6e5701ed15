package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Cache-Control values for /static. Pages ask for assets with ?v=<content
// hash> (see New's asset func), and a URL that names the current hash can
// never change: browsers keep it a year without asking again. Any other
// request (no v, or a hash from an older build) must revalidate, and its
// ETag, the same content hash, makes that a 304 when nothing changed.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// staticCache sets the caching headers of a /static request from versions
// (asset path -> content hash) and answers a matching If-None-Match with 304.
func staticCache(versions map[string]string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
			return c.Next()
		}
		version, known := versions[strings.TrimPrefix(c.Path(), "/static/")]
		if !known {
			return c.Next() // the file server's 404
		}
		if v := c.Query("v"); v != "" && v == version {
			c.Set(fiber.HeaderCacheControl, cacheImmutable)
			return c.Next()
		}
		etag := `"` + version + `"`
		c.Set(fiber.HeaderCacheControl, cacheRevalidate)
		c.Set(fiber.HeaderETag, etag)
		if etagMatches(c.Get(fiber.HeaderIfNoneMatch), etag) {
			return c.SendStatus(fiber.StatusNotModified)
		}
		return c.Next()
	}
}

// etagMatches reports whether an If-None-Match header names etag: a list of
// entity tags compared weakly (RFC 9110 13.1.2), or "*".
func etagMatches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
