package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// An inbox's auto-responses in the API (issue 14).

// apiAutoText is one auto-response.
type apiAutoText struct {
	Enabled bool   `json:"enabled"`
	Body    string `json:"body" jsonschema:"description=the text; placeholders {location}\\, {response_time}\\, {notice}"`
}

// apiAutoTextOut is one auto-response with the text as it goes out.
type apiAutoTextOut struct {
	apiAutoText
	Written  string `json:"written" jsonschema:"description=the text with its placeholders filled\\, as it goes out"`
	Encoding string `json:"encoding" jsonschema:"enum=text,enum=unicode,description=as an SMS: GSM-7 (text) or UCS-2 (unicode)"`
	Segments int    `json:"segments" jsonschema:"description=as an SMS: the parts it is sent (and charged) as"`
}

// apiAutoResponsesOut is GET /inboxes/{id}/auto-responses.
type apiAutoResponsesOut struct {
	Initial         apiAutoTextOut `json:"initial" jsonschema:"description=to the first message of a new conversation"`
	OutOfOffice     apiAutoTextOut `json:"out_of_office" jsonschema:"description=outside business hours or during a closure"`
	CooldownMinutes int            `json:"cooldown_minutes" jsonschema:"description=never twice to the same recipient within this (default 1440: a day)"`
	ResponseTime    string         `json:"response_time" jsonschema:"description=fills {response_time}\\, e.g. within 2 hours"`
	Notice          string         `json:"notice" jsonschema:"description=fills {notice}: critical information"`
}

// apiAutoResponsesIn is PUT /inboxes/{id}/auto-responses: the whole
// settings (a part left out is off or empty).
type apiAutoResponsesIn struct {
	Initial         apiAutoText `json:"initial"`
	OutOfOffice     apiAutoText `json:"out_of_office"`
	CooldownMinutes *int        `json:"cooldown_minutes,omitempty" jsonschema:"description=default 1440"`
	ResponseTime    string      `json:"response_time,omitempty"`
	Notice          string      `json:"notice,omitempty"`
}

func apiAutoResponses(a *models.AutoResponses) apiAutoResponsesOut {
	text := func(enabled bool, body string) apiAutoTextOut {
		w := a.Write(body)
		return apiAutoTextOut{apiAutoText: apiAutoText{Enabled: enabled, Body: body}, Written: w.Text, Encoding: w.Encoding, Segments: w.Segments}
	}
	return apiAutoResponsesOut{Initial: text(a.InitialEnabled, a.InitialBody), OutOfOffice: text(a.OutOfOfficeEnabled, a.OutOfOfficeBody),
		CooldownMinutes: a.CooldownMinutes, ResponseTime: a.ResponseTime, Notice: a.Notice}
}

// apiAutoResponseRoutes registers an inbox's auto-responses.
func (s *Server) apiAutoResponseRoutes(api fiber.Router) {
	view, manage := settingsGuards()
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/inboxes/:id<int>/auto-responses", Tag: "inboxes",
		Summary: "An inbox's auto-responses, each with its text as it goes out", Out: apiAutoResponsesOut{}}, view, s.apiGetAutoResponses)
	s.apiHandle(api, apiOp{Method: fiber.MethodPut, Path: "/inboxes/:id<int>/auto-responses", Tag: "inboxes",
		Summary: "Set an inbox's auto-responses (the whole settings)", Body: apiAutoResponsesIn{}, Out: apiAutoResponsesOut{}},
		manage, s.apiPutAutoResponses)
}

func (s *Server) apiGetAutoResponses(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	a, err := s.store.InboxAutoResponses(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	return c.JSON(apiAutoResponses(a))
}

func (s *Server) apiPutAutoResponses(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiAutoResponsesIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	set := models.AutoResponses{InitialEnabled: in.Initial.Enabled, InitialBody: in.Initial.Body,
		OutOfOfficeEnabled: in.OutOfOffice.Enabled, OutOfOfficeBody: in.OutOfOffice.Body,
		CooldownMinutes: models.DefaultCooldownMinutes, ResponseTime: in.ResponseTime, Notice: in.Notice}
	if in.CooldownMinutes != nil {
		set.CooldownMinutes = *in.CooldownMinutes
	}
	a, err := s.store.SetInboxAutoResponses(c.UserContext(), sessionUser(c).Scope, id, set)
	if err != nil {
		return err
	}
	return c.JSON(apiAutoResponses(a))
}
