package views

import "github.com/parley-chat/parley/models"

// SetupData is the first-run form: the first organization, its first
// location and its first admin. Errors are keyed by field name.
type SetupData struct {
	Name, LocationName, Timezone string
	AdminName, AdminEmail        string
	Errors                       map[string]string
	// TimeZones are offered in the time zone field's list.
	TimeZones []string
}

// InstanceData is the operators' Instance page.
type InstanceData struct {
	Version string
	// Dependencies are PostgreSQL and Redis, as /readyz checks them.
	Dependencies []DependencyState
	Queues       []QueueState
	// QueuesError says why queue sizes could not be read ("" when they were).
	QueuesError   string
	Organizations []models.InstanceOrganization
}

// DependencyState is whether one dependency answers.
type DependencyState struct {
	Name   string
	OK     bool
	Detail string // the error when it does not answer
}

// QueueState is one job queue's size by task state.
type QueueState struct {
	Name                                              string
	Size, Pending, Active, Scheduled, Retry, Archived int
	Paused                                            bool
}
