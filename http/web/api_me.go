package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// apiUserOut is a user as the API shows it.
type apiUserOut struct {
	ID         int64   `json:"id"`
	Email      string  `json:"email"`
	Name       string  `json:"name"`
	Role       string  `json:"role" jsonschema:"enum=admin,enum=manager,enum=agent"`
	AllInboxes bool    `json:"all_inboxes"`
	InboxIDs   []int64 `json:"inbox_ids"`
	Disabled   bool    `json:"disabled"`
	Timezone   string  `json:"timezone"`
	Clock      string  `json:"clock" jsonschema:"description=12 or 24 (hours); empty: the browser decides"`
	Operator   bool    `json:"operator"`
	CreatedAt  string  `json:"created_at" jsonschema:"format=date-time"`
}

// apiMeOut is GET /me: the token's user and organization.
type apiMeOut struct {
	User         apiUserOut `json:"user"`
	Organization struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"organization"`
	Permissions []string `json:"permissions"`
}

func (s *Server) apiMe(c *fiber.Ctx) error {
	su := sessionUser(c)
	var out apiMeOut
	u := su.User
	out.User = apiUserOut{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, AllInboxes: su.Scope.AllInboxes(),
		InboxIDs: su.Scope.InboxIDs, Disabled: u.DisabledAt != nil, Timezone: u.Timezone, Clock: u.Clock,
		Operator: u.IsOperator, CreatedAt: rfc3339(u.CreatedAt)}
	if out.User.InboxIDs == nil {
		out.User.InboxIDs = []int64{}
	}
	out.Organization.ID, out.Organization.Name = su.Scope.OrgID, su.OrgName
	out.Permissions = []string{}
	for _, p := range models.Permissions() {
		if su.Scope.Can(p) {
			out.Permissions = append(out.Permissions, string(p))
		}
	}
	return c.JSON(out)
}
