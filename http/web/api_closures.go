package web

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// An inbox's holidays and closures in the API: the same store methods as
// the inbox's settings page.

// apiClosureOut is a closure as the API shows it.
type apiClosureOut struct {
	ID       int64  `json:"id"`
	InboxID  int64  `json:"inbox_id"`
	Name     string `json:"name"`
	StartsOn string `json:"starts_on" jsonschema:"format=date"`
	EndsOn   string `json:"ends_on" jsonschema:"format=date,description=the last closed day (inclusive)"`
}

// apiClosureIn is POST /inboxes/{id}/closures.
type apiClosureIn struct {
	Name     string `json:"name"`
	StartsOn string `json:"starts_on" jsonschema:"format=date"`
	EndsOn   string `json:"ends_on,omitempty" jsonschema:"format=date,description=default: the same day as starts_on"`
}

func apiClosure(c *models.Closure) apiClosureOut {
	return apiClosureOut{ID: c.ID, InboxID: c.InboxID, Name: c.Name,
		StartsOn: c.StartsOn.Format(time.DateOnly), EndsOn: c.EndsOn.Format(time.DateOnly)}
}

// apiClosureRoutes registers an inbox's closures.
func (s *Server) apiClosureRoutes(api fiber.Router) {
	view, manage := settingsGuards()
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/inboxes/:id<int>/closures", Tag: "inboxes",
		Summary: "An inbox's holidays and closures, by first day", Out: apiClosureOut{}, List: true}, view, s.apiListClosures)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/inboxes/:id<int>/closures", Tag: "inboxes",
		Summary: "Close an inbox for whole days (in its location's timezone)", Body: apiClosureIn{}, Out: apiClosureOut{},
		Status: http.StatusCreated}, manage, s.apiAddClosure)
	s.apiHandle(api, apiOp{Method: fiber.MethodDelete, Path: "/inboxes/:id<int>/closures/:closure_id<int>", Tag: "inboxes",
		Summary: "Remove a closure"}, manage, s.apiRemoveClosure)
}

func (s *Server) apiListClosures(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	sc := sessionUser(c).Scope
	if _, err := s.store.InboxByID(c.UserContext(), sc, id); err != nil {
		return err
	}
	cs, err := s.store.InboxClosures(c.UserContext(), sc, id)
	if err != nil {
		return err
	}
	// An inbox has few closures: one page holds them all.
	out := apiList[apiClosureOut]{Data: []apiClosureOut{}}
	for i := range cs {
		out.Data = append(out.Data, apiClosure(&cs[i]))
	}
	return c.JSON(out)
}

func (s *Server) apiAddClosure(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiClosureIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	cl, err := s.store.AddClosure(c.UserContext(), sessionUser(c).Scope, id,
		models.ClosureInput{Name: in.Name, StartsOn: in.StartsOn, EndsOn: in.EndsOn})
	if fe := asFieldError(err); fe != nil && fe.Field == "closure_name" {
		fe.Field = "name" // the page's field is closure_name; the API's is name
	}
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(apiClosure(cl))
}

func (s *Server) apiRemoveClosure(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cid, err := pathID(c, "closure_id")
	if err != nil {
		return err
	}
	if err := s.store.RemoveClosure(c.UserContext(), sessionUser(c).Scope, id, cid); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}
