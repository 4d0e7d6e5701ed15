package jobs

import (
	"errors"
	"time"

	"github.com/hibiken/asynq"
)

// A task whose worker died (SIGKILL, OOM, a lost host) stays "active" in
// Redis until asynq notices. asynq (v0.26) fixes every step of that, none
// configurable: a running task holds a 30 s lease, extended every 5 s by
// its server's heartbeat; the recoverer, run by every live server once a
// minute (and once at its start), takes back tasks whose lease expired at
// least 30 s earlier (a margin for clock skew), and hands them to the
// retry set with the RetryDelayFunc's delay; the forwarder moves due
// retries to their queue every DelayedTaskCheckInterval (5 s).
//
// So a send whose worker was killed starts again between about 55 s (a
// lease just extended, expiring 25-30 s after the kill, plus the 30 s
// margin) and about 2 min (plus the next recoverer pass, up to a minute)
// after the kill, plus leaseExpiredRetryDelay and the forwarder's 5 s.
// asynq's own backoff added 15-44 s more on a first retry; this worker
// retries a lease expiry after leaseExpiredRetryDelay instead, since
// nothing about the task itself failed.
const leaseExpiredRetryDelay = time.Second

// leaseRetryDelay wraps a retry delay function (nil: asynq's default
// backoff) so a task retried because its worker died goes back at once.
func leaseRetryDelay(next asynq.RetryDelayFunc) asynq.RetryDelayFunc {
	if next == nil {
		next = asynq.DefaultRetryDelayFunc
	}
	return func(n int, err error, t *asynq.Task) time.Duration {
		if errors.Is(err, asynq.ErrLeaseExpired) {
			return leaseExpiredRetryDelay
		}
		return next(n, err, t)
	}
}
