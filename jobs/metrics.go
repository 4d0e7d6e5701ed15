package jobs

import (
	"errors"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/prometheus/client_golang/prometheus"
)

// QueueCollector exports each queue's task counts at scrape time, read
// through asynq's Inspector (so any node reports the shared queues).
type QueueCollector struct {
	insp  *asynq.Inspector
	tasks *prometheus.Desc
	done  *prometheus.Desc
	fail  *prometheus.Desc
	lat   *prometheus.Desc
	up    *prometheus.Desc
}

// NewQueueCollector reads queue figures through insp.
func NewQueueCollector(insp *asynq.Inspector) *QueueCollector {
	return &QueueCollector{
		insp:  insp,
		tasks: prometheus.NewDesc("parley_queue_tasks", "Tasks in a queue by state.", []string{"queue", "state"}, nil),
		done:  prometheus.NewDesc("parley_queue_processed_today", "Tasks processed today (UTC) per queue.", []string{"queue"}, nil),
		fail:  prometheus.NewDesc("parley_queue_failed_today", "Tasks failed today (UTC) per queue.", []string{"queue"}, nil),
		lat:   prometheus.NewDesc("parley_queue_latency_seconds", "Age of the oldest pending task per queue.", []string{"queue"}, nil),
		up:    prometheus.NewDesc("parley_queue_up", "1 when queue figures could be read from Redis.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.tasks, c.done, c.fail, c.lat, c.up} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	up := 1.0
	for q := range task.Queues() {
		info, err := c.insp.GetQueueInfo(q)
		if err != nil {
			// A queue that never received a task does not exist yet in Redis.
			if errors.Is(err, asynq.ErrQueueNotFound) {
				continue
			}
			up = 0
			break
		}
		for state, n := range map[string]int{
			"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed,
		} {
			ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(n), q, state)
		}
		ch <- prometheus.MustNewConstMetric(c.done, prometheus.GaugeValue, float64(info.Processed), q)
		ch <- prometheus.MustNewConstMetric(c.fail, prometheus.GaugeValue, float64(info.Failed), q)
		ch <- prometheus.MustNewConstMetric(c.lat, prometheus.GaugeValue, info.Latency.Seconds(), q)
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
}
