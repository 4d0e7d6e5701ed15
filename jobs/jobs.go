// Package jobs owns Parley's background work on asynq: the enqueue side
// (the outbox relay), the worker and its handlers. The task types, their
// queues, retry policy and payloads are the catalogue in jobs/task, which
// the store also writes outbox rows through; the worker refuses to start
// without a handler for every type there. Handlers reach the database
// through small interfaces defined here and connected agents through a
// notifier interface; this package never imports http/ (architecture.md).
// asynq runs tasks at least once, so every handler is idempotent.
package jobs

import "time"

// DefaultTaskCheckInterval is how long an idle worker waits before polling
// Redis again. asynq's default (1 s) adds about half a second to every
// send on a quiet system (quality.md, B3). Measured here: 50 ms gave a
// reply-to-sent p50 of 38 ms; 10 ms costs an idle worker ~100 small Redis
// calls a second and keeps the poll's share of latency to ~5 ms.
const DefaultTaskCheckInterval = 10 * time.Millisecond
