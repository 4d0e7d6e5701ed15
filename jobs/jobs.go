// Package jobs owns Parley's background work on asynq: the task types, the
// enqueue side, and the worker's handlers. Handlers reach the database
// through small interfaces defined here and connected agents through a
// notifier interface; this package never imports http/ (architecture.md).
// asynq runs tasks at least once, so every handler is idempotent.
package jobs

import "time"

// Queue names. Priorities decide how often each is polled relative to the
// others (asynq's weighted priority): conversations beat bulk fan-out.
const (
	QueueCritical = "critical" // replies agents are waiting on, STOP confirmations
	QueueDefault  = "default"  // auto-responses, forwarding, credit charges
	QueueBulk     = "bulk"     // broadcasts, maintenance
)

// Queues maps each queue to its weight.
func Queues() map[string]int {
	return map[string]int{QueueCritical: 6, QueueDefault: 3, QueueBulk: 1}
}

// DefaultTaskCheckInterval is how long an idle worker waits before polling
// Redis again. asynq's default (1 s) adds about half a second to every
// send on a quiet system (quality.md, B3). Measured here: 50 ms gave a
// reply-to-sent p50 of 38 ms; 10 ms costs an idle worker ~100 small Redis
// calls a second and keeps the poll's share of latency to ~5 ms.
const DefaultTaskCheckInterval = 10 * time.Millisecond
