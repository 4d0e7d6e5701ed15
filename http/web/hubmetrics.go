package web

import (
	"github.com/parley-chat/parley/hub"
	"github.com/prometheus/client_golang/prometheus"
)

// hubCollector exports the hub's counters and gauges at scrape time (the
// hub itself stays free of Prometheus).
type hubCollector struct {
	h     *hub.Hub
	descs map[string]*prometheus.Desc
}

// newHubCollector reports h's figures as parley_hub_* metrics.
func newHubCollector(h *hub.Hub) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("parley_hub_"+name, help, nil, nil)
	}
	return &hubCollector{h: h, descs: map[string]*prometheus.Desc{
		"rooms":       d("rooms", "Live topic goroutines on this node."),
		"subscribers": d("subscribers", "Agent sockets subscribed on this node."),
		"published":   d("events_published_total", "Events published on this node."),
		"received":    d("events_received_total", "Events received from other nodes."),
		"delivered":   d("frames_delivered_total", "Frames queued to agent sockets."),
		"dropped":     d("subscribers_dropped_total", "Sockets dropped for being too slow."),
		"lagged":      d("subscribers_lagged_total", "Times a socket fell behind, skipped frames and caught up from the database."),
		"broker":      d("broker_errors_total", "Failed cross-node sends or subscriptions."),
	}}
}

// Describe implements prometheus.Collector.
func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.h.Stats()
	g := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.GaugeValue, v) }
	n := func(k string, v uint64) {
		ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.CounterValue, float64(v))
	}
	g("rooms", float64(s.Rooms))
	g("subscribers", float64(s.Subscribers))
	n("published", s.EventsPublished)
	n("received", s.EventsReceived)
	n("delivered", s.FramesDelivered)
	n("dropped", s.SubscribersDropped)
	n("lagged", s.SubscribersLagged)
	n("broker", s.BrokerErrors)
}
