package web

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// The groups API (spec/api.md): the same store methods as the Groups
// pages and the Recipients page's bulk actions.

// apiGroupOut is a group as the API shows it.
type apiGroupOut struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Members   int    `json:"members" jsonschema:"description=how many recipients the group holds (that the caller may see)"`
	CreatedAt string `json:"created_at" jsonschema:"format=date-time"`
	UpdatedAt string `json:"updated_at" jsonschema:"format=date-time"`
}

func groupOut(g *models.Group) apiGroupOut {
	return apiGroupOut{ID: g.ID, Name: g.Name, Members: g.Members, CreatedAt: rfc3339(g.CreatedAt), UpdatedAt: rfc3339(g.UpdatedAt)}
}

// apiGroupIn creates or renames a group.
type apiGroupIn struct {
	Name string `json:"name" jsonschema:"description=unique in the organization whatever its case; at most 100 characters"`
}

// apiGroupMembersIn adds members: the recipients named, or everyone a
// recipients search matches (q, and group_id: from another group's
// members).
type apiGroupMembersIn struct {
	RecipientIDs []int64 `json:"recipient_ids,omitempty" jsonschema:"description=at most 10000"`
	Q            *string `json:"q,omitempty" jsonschema:"description=add everyone this search of name, email or phone matches (\"\": everyone)"`
	GroupID      int64   `json:"group_id,omitempty" jsonschema:"description=with q: only among this group's members"`
}

// apiGroupMembersOut is how many recipients an addition changed.
type apiGroupMembersOut struct {
	Added int `json:"added" jsonschema:"description=how many were not members before"`
}

// apiGroupMembersRemoveIn removes members.
type apiGroupMembersRemoveIn struct {
	RecipientIDs []int64 `json:"recipient_ids" jsonschema:"description=at most 10000"`
}

// apiGroupMembersRemovedOut is how many recipients a removal changed.
type apiGroupMembersRemovedOut struct {
	Removed int `json:"removed" jsonschema:"description=how many were members"`
}

func (s *Server) apiGroupRoutes(api fiber.Router) {
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/groups", Tag: "groups", List: true,
		Summary: "Groups by name, with their member counts (one page: next_cursor is always empty)", Out: apiGroupOut{}}, s.apiGroups)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/groups", Tag: "groups", Status: http.StatusCreated,
		Summary: "Add a group", Body: apiGroupIn{}, Out: apiGroupOut{}}, s.apiCreateGroup)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/groups/:id<int>", Tag: "groups",
		Summary: "One group", Out: apiGroupOut{}}, s.apiGroup)
	s.apiHandle(api, apiOp{Method: fiber.MethodPatch, Path: "/groups/:id<int>", Tag: "groups",
		Summary: "Rename a group", Body: apiGroupIn{}, Out: apiGroupOut{}}, s.apiRenameGroup)
	s.apiHandle(api, apiOp{Method: fiber.MethodDelete, Path: "/groups/:id<int>", Tag: "groups",
		Summary: "Delete a group (its members stay recipients)"}, s.apiDeleteGroup)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/groups/:id<int>/members", Tag: "groups",
		Summary: "Add members: recipient_ids, or everyone the search q matches; members already in it are left as they are",
		Body:    apiGroupMembersIn{}, Out: apiGroupMembersOut{}}, s.apiAddGroupMembers)
	s.apiHandle(api, apiOp{Method: fiber.MethodDelete, Path: "/groups/:id<int>/members", Tag: "groups",
		Summary: "Remove members (they stay recipients)", Body: apiGroupMembersRemoveIn{}, Out: apiGroupMembersRemovedOut{}}, s.apiRemoveGroupMembers)
}

func (s *Server) apiGroups(c *fiber.Ctx) error {
	gs, err := s.store.Groups(c.UserContext(), sessionUser(c).Scope)
	if err != nil {
		return err
	}
	out := apiList[apiGroupOut]{Data: make([]apiGroupOut, 0, len(gs))}
	for i := range gs {
		out.Data = append(out.Data, groupOut(&gs[i]))
	}
	return c.JSON(out)
}

func (s *Server) apiCreateGroup(c *fiber.Ctx) error {
	var in apiGroupIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	g, err := s.store.CreateGroup(c.UserContext(), sessionUser(c).Scope, in.Name)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(groupOut(g))
}

func (s *Server) apiGroup(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	g, err := s.store.GroupByID(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	return c.JSON(groupOut(g))
}

func (s *Server) apiRenameGroup(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiGroupIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	g, err := s.store.RenameGroup(c.UserContext(), sessionUser(c).Scope, id, in.Name)
	if err != nil {
		return err
	}
	return c.JSON(groupOut(g))
}

func (s *Server) apiDeleteGroup(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteGroup(c.UserContext(), sessionUser(c).Scope, id); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

func (s *Server) apiAddGroupMembers(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiGroupMembersIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	var added int
	switch {
	case in.Q != nil && len(in.RecipientIDs) > 0:
		return &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "validation",
			Detail: "Give recipient_ids or q, not both.", Fields: []fieldProblem{{Field: "q", Message: "Give recipient_ids or q, not both."}}}
	case in.Q != nil:
		added, err = s.store.AddGroupMembersMatching(ctx, sc, id, models.RecipientFilter{Query: *in.Q, GroupID: in.GroupID})
	default:
		added, err = s.store.AddGroupMembers(ctx, sc, id, in.RecipientIDs)
	}
	if err != nil {
		return err
	}
	return c.JSON(apiGroupMembersOut{Added: added})
}

func (s *Server) apiRemoveGroupMembers(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiGroupMembersRemoveIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	removed, err := s.store.RemoveGroupMembers(c.UserContext(), sessionUser(c).Scope, id, in.RecipientIDs)
	if err != nil {
		return err
	}
	return c.JSON(apiGroupMembersRemovedOut{Removed: removed})
}
