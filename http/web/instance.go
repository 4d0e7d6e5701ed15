package web

import (
	"sort"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/views"
)

// instancePath is the operators' overview of the instance.
const instancePath = "/admin/instance"

// instancePage serves /admin/instance: the build, PostgreSQL and Redis as
// /readyz sees them, the job queues' sizes and every organization. Routes
// put requireOperator in front of it; the store checks again.
func (s *Server) instancePage() fiber.Handler {
	insp := asynq.NewInspector(s.queue)
	s.closers = append(s.closers, insp.Close)
	return func(c *fiber.Ctx) error {
		su := sessionUser(c)
		orgs, err := s.store.InstanceOrganizations(c.UserContext(), su.Scope)
		if err != nil {
			return err
		}
		d := views.InstanceData{Version: s.deps.Version, Dependencies: s.dependencies(c.UserContext()), Organizations: orgs}
		if d.Version == "" {
			d.Version = "unknown"
		}
		d.Queues, err = queueStates(insp)
		if err != nil {
			d.QueuesError = "Queue sizes could not be read from Redis: " + err.Error()
		}
		return s.render(c, "instance", views.Layout{Title: "Instance", Active: "instance"}, d)
	}
}

// queueStates reads each catalogued queue's size; a queue that never held
// a task does not exist in Redis yet and counts as empty (asynq's
// GetQueueInfo fails for it with an error no sentinel matches, so the
// known queues are listed first).
func queueStates(insp *asynq.Inspector) ([]views.QueueState, error) {
	names, err := insp.Queues()
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, q := range names {
		known[q] = true
	}
	var out []views.QueueState
	for q := range task.Queues() {
		st := views.QueueState{Name: q}
		if known[q] {
			info, err := insp.GetQueueInfo(q)
			if err != nil {
				return nil, err
			}
			st.Size, st.Pending, st.Active, st.Scheduled = info.Size, info.Pending, info.Active, info.Scheduled
			st.Retry, st.Archived, st.Paused = info.Retry, info.Archived, info.Paused
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
