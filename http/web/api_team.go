package web

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// apiUserIn is POST /users: a new user, with a password now or an
// invitation link to pass on.
type apiUserIn struct {
	Name       string  `json:"name"`
	Email      string  `json:"email" jsonschema:"format=email"`
	Role       string  `json:"role" jsonschema:"enum=admin,enum=manager,enum=agent"`
	AllInboxes *bool   `json:"all_inboxes,omitempty" jsonschema:"description=An agent sees every inbox, current and future (the default unless inbox_ids is given)"`
	InboxIDs   []int64 `json:"inbox_ids,omitempty" jsonschema:"description=A chat agent only: the inboxes they see"`
	Password   string  `json:"password,omitempty" jsonschema:"description=At least 10 characters; leave out with invite"`
	Invite     bool    `json:"invite,omitempty" jsonschema:"description=No password now: the answer's invite_url is a one-time link (7 days) to pass on"`
}

// apiUserPatch is PATCH /users/{id}: only the fields given change.
type apiUserPatch struct {
	Name       *string `json:"name,omitempty"`
	Email      *string `json:"email,omitempty" jsonschema:"format=email"`
	Role       *string `json:"role,omitempty" jsonschema:"enum=admin,enum=manager,enum=agent"`
	AllInboxes *bool   `json:"all_inboxes,omitempty"`
	InboxIDs   []int64 `json:"inbox_ids,omitempty" jsonschema:"description=Limits an agent to these inboxes (all_inboxes becomes false)"`
	Disabled   *bool   `json:"disabled,omitempty" jsonschema:"description=A disabled user is signed out everywhere and their tokens stop at once"`
}

// apiNewUserOut is a created user, with the invitation link when invited.
type apiNewUserOut struct {
	apiUserOut
	InviteURL string `json:"invite_url,omitempty" jsonschema:"format=uri"`
}

// apiTeamRoutes: the team (spec/api.md "users"), through the same store
// methods as the Settings → Team pages.
func (s *Server) apiTeamRoutes(api fiber.Router) {
	view, manage := requirePerm(models.PermViewSettings), requirePerm(models.PermManageTeam)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/users", Tag: "users", List: true,
		Summary: "The organization's users, by id (managers and admins)", Out: apiUserOut{}}, view, s.apiUsers)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/users", Tag: "users", Status: http.StatusCreated,
		Summary: "Add a user with a password, or invite them (admins)", Body: apiUserIn{}, Out: apiNewUserOut{}}, manage, s.apiCreateUser)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/users/:id<int>", Tag: "users",
		Summary: "One user (managers and admins)", Out: apiUserOut{}}, view, s.apiUser)
	s.apiHandle(api, apiOp{Method: fiber.MethodPatch, Path: "/users/:id<int>", Tag: "users",
		Summary: "Change a user's name, email, role, inbox access or disabled (admins)", Body: apiUserPatch{}, Out: apiUserOut{}}, manage, s.apiUpdateUser)
}

func apiTeamUser(u *models.TeamUser) apiUserOut {
	out := apiUserOut{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, AllInboxes: u.SeesAllInboxes(),
		InboxIDs: u.InboxIDs, Disabled: u.DisabledAt != nil, Timezone: u.Timezone, Clock: u.Clock,
		Operator: u.IsOperator, CreatedAt: rfc3339(u.CreatedAt)}
	if out.InboxIDs == nil || out.AllInboxes {
		out.InboxIDs = []int64{}
	}
	return out
}

func (s *Server) apiUsers(c *fiber.Ctx) error {
	var cur struct {
		After int64 `json:"after"`
	}
	limit, err := pageParams(c, &cur)
	if err != nil {
		return err
	}
	users, err := s.store.TeamUsers(c.UserContext(), sessionUser(c).Scope, cur.After, limit+1)
	if err != nil {
		return err
	}
	out := apiList[apiUserOut]{Data: []apiUserOut{}}
	for i := range users {
		if i == limit {
			cur.After = users[i-1].ID
			out.NextCursor = makeCursor(cur)
			break
		}
		out.Data = append(out.Data, apiTeamUser(&users[i]))
	}
	return c.JSON(out)
}

func (s *Server) apiUser(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u, err := s.store.TeamUser(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	return c.JSON(apiTeamUser(u))
}

func (s *Server) apiCreateUser(c *fiber.Ctx) error {
	var in apiUserIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	all := len(in.InboxIDs) == 0
	if in.AllInboxes != nil {
		all = *in.AllInboxes
	}
	if in.Invite && in.Password != "" {
		return &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "validation",
			Detail: "Give a password or ask for an invitation, not both.",
			Fields: []fieldProblem{{Field: "password", Message: "Leave out with invite."}}}
	}
	u, token, err := s.store.CreateUser(c.UserContext(), sessionUser(c).Scope, models.NewUser{Name: in.Name, Email: in.Email,
		Role: in.Role, AllInboxes: all, InboxIDs: in.InboxIDs, Invite: in.Invite, Password: in.Password})
	if err != nil {
		return err
	}
	out := apiNewUserOut{apiUserOut: apiTeamUser(u)}
	if token != "" {
		out.InviteURL = s.passwordLinkURL(token)
	}
	c.Status(http.StatusCreated)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

func (s *Server) apiUpdateUser(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiUserPatch
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ch := models.UserChange{Name: in.Name, Email: in.Email, Role: in.Role, AllInboxes: in.AllInboxes,
		InboxIDs: in.InboxIDs, Disabled: in.Disabled}
	if in.InboxIDs != nil && in.AllInboxes == nil {
		ch.AllInboxes = new(bool) // inbox_ids alone limits the agent to them
	}
	res, err := s.store.UpdateUser(c.UserContext(), sessionUser(c).Scope, id, ch)
	if err != nil {
		return err
	}
	return c.JSON(apiTeamUser(res.User))
}
