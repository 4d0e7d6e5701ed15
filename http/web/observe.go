package web

import (
	"crypto/subtle"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpMetrics are the request figures exported at /metrics.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "parley_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// contentSecurityPolicy allows only our own scripts: a message body that
// smuggles markup cannot run script even if escaping were ever missed (R10).
// htmx injects its indicator styles inline, hence 'unsafe-inline' for styles.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// observe sets security headers, then records each request's metrics.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	if underQueues(c.Path()) {
		// The Asynq dashboard, a third-party single-page app, gets a policy
		// of its own that allows its inline scripts by hash (queues.go).
		c.Set("Content-Security-Policy", s.queuesCSP)
	} else {
		c.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	c.Set("X-Frame-Options", "DENY")
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			c.Status(fiber.StatusInternalServerError)
		}
	}
	route := c.Route().Path
	if underQueues(c.Path()) {
		route = queuesPath
	} else if strings.HasPrefix(c.Path(), "/static/") {
		route = "/static"
	} else if c.Response().StatusCode() == fiber.StatusNotFound {
		route = "unmatched"
	}
	s.httpm.requests.WithLabelValues(c.Method(), route, strconv.Itoa(c.Response().StatusCode())).Inc()
	s.httpm.duration.WithLabelValues(c.Method(), route).Observe(time.Since(start).Seconds())
	return nil
}

// metricsHandler serves Prometheus metrics, behind a bearer token when one is configured.
func (s *Server) metricsHandler() fiber.Handler {
	h := adaptor.HTTPHandler(promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{Registry: s.metrics}))
	return func(c *fiber.Ctx) error {
		if want := s.cfg.MetricsToken; want != "" {
			got := strings.TrimPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
			if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				return c.SendStatus(fiber.StatusUnauthorized)
			}
		}
		return h(c)
	}
}
