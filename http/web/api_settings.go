package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// The settings API (spec/api.md): the organization, locations and
// inboxes. The handlers call the same store methods as the settings pages,
// which check the role (a manager's PATCH is a 404) and write the audit log.

// apiOrganizationOut is the organization as the API shows it.
type apiOrganizationOut struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	Slug           string `json:"slug"`
	DefaultCountry string `json:"default_country" jsonschema:"description=ISO 3166-1 alpha-2; local phone formats are read in it"`
	CreatedAt      string `json:"created_at" jsonschema:"format=date-time"`
}

// apiOrganizationIn is PATCH /organization: only the fields present change.
type apiOrganizationIn struct {
	Name           *string `json:"name,omitempty"`
	DefaultCountry *string `json:"default_country,omitempty" jsonschema:"pattern=^[A-Za-z]{2}$"`
}

// apiLocationOut is a location as the API shows it.
type apiLocationOut struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Timezone   string  `json:"timezone" jsonschema:"description=IANA time zone"`
	QuietStart *string `json:"quiet_start" jsonschema:"description=HH:MM or null"`
	QuietEnd   *string `json:"quiet_end" jsonschema:"description=HH:MM or null"`
	PlanStatus string  `json:"plan_status" jsonschema:"enum=active,enum=inactive,enum=suspended"`
	PlanName   string  `json:"plan_name"`
	Archived   bool    `json:"archived"`
	ArchivedAt *string `json:"archived_at" jsonschema:"format=date-time"`
	CreatedAt  string  `json:"created_at" jsonschema:"format=date-time"`

	PlanCredits      int     `json:"plan_credits" jsonschema:"description=the plan's credits per period"`
	PlanPeriodStart  *string `json:"plan_period_start" jsonschema:"format=date-time,description=the plan's anchor: periods run from it in steps of plan_period_months; null until the plan is first activated"`
	PlanPeriodMonths int     `json:"plan_period_months" jsonschema:"minimum=1,maximum=36"`
	Balance          *int64  `json:"balance" jsonschema:"description=plan and purchased credits (negative in overage); null for who may not see credits"`
}

// apiLocationIn is POST /locations (name required).
type apiLocationIn struct {
	Name       *string `json:"name,omitempty"`
	Timezone   *string `json:"timezone,omitempty" jsonschema:"description=IANA time zone (default UTC)"`
	QuietStart *string `json:"quiet_start,omitempty" jsonschema:"description=HH:MM; \"\" (with quiet_end \"\") clears quiet hours"`
	QuietEnd   *string `json:"quiet_end,omitempty" jsonschema:"description=HH:MM; \"\" clears"`
	PlanStatus *string `json:"plan_status,omitempty" jsonschema:"enum=active,enum=inactive,enum=suspended"`
	PlanName   *string `json:"plan_name,omitempty"`

	PlanCredits      *int    `json:"plan_credits,omitempty" jsonschema:"minimum=0,maximum=100000000"`
	PlanPeriodStart  *string `json:"plan_period_start,omitempty" jsonschema:"description=an RFC 3339 date-time or a YYYY-MM-DD date (midnight in the location's time zone)"`
	PlanPeriodMonths *int    `json:"plan_period_months,omitempty" jsonschema:"minimum=1,maximum=36"`
}

// apiLocationPatch is PATCH /locations/{id}: only the fields present change.
type apiLocationPatch struct {
	apiLocationIn
	Archived *bool `json:"archived,omitempty" jsonschema:"description=true archives the location; false brings it back"`
}

// input is the store's input; a plan_period_start date is read in the
// time zone the request sets, else tz (the location's).
func (in apiLocationIn) input(tz *time.Location) (models.LocationInput, error) {
	out := models.LocationInput{Name: in.Name, Timezone: in.Timezone, QuietStart: in.QuietStart, QuietEnd: in.QuietEnd,
		PlanStatus: in.PlanStatus, PlanName: in.PlanName, PlanCredits: in.PlanCredits, PlanPeriodMonths: in.PlanPeriodMonths}
	if in.PlanPeriodStart != nil {
		if in.Timezone != nil && models.ValidTimezone("timezone", *in.Timezone) == nil {
			tz, _ = time.LoadLocation(*in.Timezone)
		}
		start, err := planStart(*in.PlanPeriodStart, tz)
		if err != nil {
			return out, err
		}
		out.PlanPeriodStart = &start
	}
	return out, nil
}

// planStart reads a plan's anchor: an RFC 3339 date-time, or a date at
// midnight in tz.
func planStart(v string, tz *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(dateForm, v, tz); err == nil {
		return t, nil
	}
	return time.Time{}, validation("plan_period_start", "Give an RFC 3339 date-time or a YYYY-MM-DD date.")
}

func (in apiLocationIn) empty() bool {
	return in.Name == nil && in.Timezone == nil && in.QuietStart == nil && in.QuietEnd == nil &&
		in.PlanStatus == nil && in.PlanName == nil && in.PlanCredits == nil && in.PlanPeriodStart == nil && in.PlanPeriodMonths == nil
}

// apiInboxOut is an inbox as the API shows it.
type apiInboxOut struct {
	ID            int64                `json:"id"`
	LocationID    int64                `json:"location_id"`
	Name          string               `json:"name"`
	SMSNumber     *string              `json:"sms_number" jsonschema:"description=E.164"`
	EmailAddress  *string              `json:"email_address"`
	HelpText      string               `json:"help_text"`
	BusinessHours models.BusinessHours `json:"business_hours" jsonschema:"description=weekday (mon..sun) to open intervals [[\"09:00\"\\,\"17:00\"]] in the location's timezone; {} means always open"`
	Archived      bool                 `json:"archived"`
	ArchivedAt    *string              `json:"archived_at" jsonschema:"format=date-time"`
	CreatedAt     string               `json:"created_at" jsonschema:"format=date-time"`
}

// apiInboxIn is POST /inboxes (name and location_id required).
type apiInboxIn struct {
	Name          *string               `json:"name,omitempty"`
	LocationID    *int64                `json:"location_id,omitempty"`
	SMSNumber     *string               `json:"sms_number,omitempty" jsonschema:"description=read in the organization's default country; \"\" removes it"`
	EmailAddress  *string               `json:"email_address,omitempty" jsonschema:"description=\"\" removes it"`
	HelpText      *string               `json:"help_text,omitempty"`
	BusinessHours *models.BusinessHours `json:"business_hours,omitempty"`
}

// apiInboxPatch is PATCH /inboxes/{id}: only the fields present change.
type apiInboxPatch struct {
	apiInboxIn
	Archived *bool `json:"archived,omitempty" jsonschema:"description=true archives the inbox; false brings it back"`
}

func (in apiInboxIn) input() models.InboxInput {
	return models.InboxInput{Name: in.Name, LocationID: in.LocationID, SMSNumber: in.SMSNumber,
		EmailAddress: in.EmailAddress, HelpText: in.HelpText, BusinessHours: in.BusinessHours}
}

func (in apiInboxIn) empty() bool {
	return in.Name == nil && in.LocationID == nil && in.SMSNumber == nil && in.EmailAddress == nil &&
		in.HelpText == nil && in.BusinessHours == nil
}

func apiLocation(l *models.Location) apiLocationOut {
	return apiLocationOut{ID: l.ID, Name: l.Name, Timezone: l.Timezone, QuietStart: l.QuietStart, QuietEnd: l.QuietEnd,
		PlanStatus: l.PlanStatus, PlanName: l.PlanName, Archived: l.ArchivedAt != nil, ArchivedAt: timePtr(l.ArchivedAt),
		CreatedAt: rfc3339(l.CreatedAt), PlanCredits: l.PlanCredits, PlanPeriodStart: timePtr(l.PlanPeriodStart),
		PlanPeriodMonths: l.PlanPeriodMonths}
}

func apiInbox(ib *models.Inbox) apiInboxOut {
	out := apiInboxOut{ID: ib.ID, LocationID: ib.LocationID, Name: ib.Name, SMSNumber: ib.SMSNumber,
		EmailAddress: ib.EmailAddress, HelpText: ib.HelpText, BusinessHours: ib.BusinessHours,
		Archived: ib.ArchivedAt != nil, ArchivedAt: timePtr(ib.ArchivedAt), CreatedAt: rfc3339(ib.CreatedAt)}
	if out.BusinessHours == nil {
		out.BusinessHours = models.BusinessHours{}
	}
	return out
}

func apiOrganization(o *models.Organization) apiOrganizationOut {
	return apiOrganizationOut{ID: o.ID, Name: o.Name, Slug: o.Slug, DefaultCountry: o.DefaultCountry, CreatedAt: rfc3339(o.CreatedAt)}
}

// apiSettingsRoutes registers the organization, locations and inboxes.
func (s *Server) apiSettingsRoutes(api fiber.Router) {
	view, manage := settingsGuards()
	get, post, patch, del := fiber.MethodGet, fiber.MethodPost, fiber.MethodPatch, fiber.MethodDelete
	s.apiHandle(api, apiOp{Method: get, Path: "/organization", Tag: "organization",
		Summary: "The organization's settings", Out: apiOrganizationOut{}}, view, s.apiGetOrganization)
	s.apiHandle(api, apiOp{Method: patch, Path: "/organization", Tag: "organization",
		Summary: "Change the organization's name or default country", Body: apiOrganizationIn{}, Out: apiOrganizationOut{}},
		manage, s.apiPatchOrganization)

	s.apiHandle(api, apiOp{Method: get, Path: "/locations", Tag: "locations", Summary: "The organization's locations, archived ones included",
		Out: apiLocationOut{}, List: true}, view, s.apiListLocations)
	s.apiHandle(api, apiOp{Method: post, Path: "/locations", Tag: "locations", Summary: "Add a location",
		Body: apiLocationIn{}, Out: apiLocationOut{}, Status: http.StatusCreated}, manage, s.apiCreateLocation)
	s.apiHandle(api, apiOp{Method: get, Path: "/locations/:id<int>", Tag: "locations", Summary: "One location",
		Out: apiLocationOut{}}, view, s.apiGetLocation)
	s.apiHandle(api, apiOp{Method: patch, Path: "/locations/:id<int>", Tag: "locations",
		Summary: "Change a location; archived archives it or brings it back", Body: apiLocationPatch{}, Out: apiLocationOut{}},
		manage, s.apiPatchLocation)

	s.apiHandle(api, apiOp{Method: get, Path: "/inboxes", Tag: "inboxes", Summary: "The inboxes the token's user may see, archived ones included",
		Out: apiInboxOut{}, List: true}, s.apiListInboxes)
	s.apiHandle(api, apiOp{Method: post, Path: "/inboxes", Tag: "inboxes", Summary: "Add an inbox to a location that is not archived",
		Body: apiInboxIn{}, Out: apiInboxOut{}, Status: http.StatusCreated}, manage, s.apiCreateInbox)
	s.apiHandle(api, apiOp{Method: get, Path: "/inboxes/:id<int>", Tag: "inboxes", Summary: "One inbox",
		Out: apiInboxOut{}}, s.apiGetInbox)
	s.apiHandle(api, apiOp{Method: patch, Path: "/inboxes/:id<int>", Tag: "inboxes",
		Summary: "Change an inbox; archived archives it or brings it back", Body: apiInboxPatch{}, Out: apiInboxOut{}},
		manage, s.apiPatchInbox)
	s.apiHandle(api, apiOp{Method: del, Path: "/inboxes/:id<int>", Tag: "inboxes",
		Summary: "Delete an inbox that has no conversations (409 if it has: archive it instead)"}, manage, s.apiDeleteInbox)
	s.apiClosureRoutes(api)
	s.apiForwardingRoutes(api)
	s.apiAutoResponseRoutes(api)
}

func (s *Server) apiGetOrganization(c *fiber.Ctx) error {
	o, err := s.store.Organization(c.UserContext(), sessionUser(c).Scope)
	if err != nil {
		return err
	}
	return c.JSON(apiOrganization(o))
}

func (s *Server) apiPatchOrganization(c *fiber.Ctx) error {
	var in apiOrganizationIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	o, err := s.store.UpdateOrganization(c.UserContext(), sessionUser(c).Scope,
		models.OrganizationInput{Name: in.Name, DefaultCountry: in.DefaultCountry})
	if err != nil {
		return err
	}
	return c.JSON(apiOrganization(o))
}

// idCursor is the lists' keyset position: the last id of the page.
type idCursor struct {
	ID int64 `json:"id"`
}

func (s *Server) apiListLocations(c *fiber.Ctx) error {
	var cur idCursor
	limit, err := pageParams(c, &cur)
	if err != nil {
		return err
	}
	locs, err := s.store.AllLocations(c.UserContext(), sessionUser(c).Scope, cur.ID, limit+1)
	if err != nil {
		return err
	}
	out := apiList[apiLocationOut]{Data: []apiLocationOut{}}
	for i := range locs {
		if i == limit {
			out.NextCursor = makeCursor(idCursor{ID: locs[i-1].ID})
			break
		}
		out.Data = append(out.Data, apiLocation(&locs[i]))
	}
	if err := s.withBalances(c, out.Data); err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) apiCreateLocation(c *fiber.Ctx) error {
	var in apiLocationIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	li, err := in.input(time.UTC)
	if err != nil {
		return err
	}
	l, err := s.store.CreateLocation(c.UserContext(), sessionUser(c).Scope, li)
	if err != nil {
		return err
	}
	return s.sendLocation(c.Status(http.StatusCreated), l)
}

func (s *Server) apiGetLocation(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	l, err := s.store.LocationByID(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	return s.sendLocation(c, l)
}

func (s *Server) apiPatchLocation(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiLocationPatch
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	// Fields first: a refused field leaves the archive state as it was too.
	l, err := s.store.LocationByID(ctx, sc, id)
	if err == nil && !in.empty() {
		var li models.LocationInput
		if li, err = in.input(l.TimeLocation()); err == nil {
			l, err = s.store.UpdateLocation(ctx, sc, id, li)
		}
	}
	if err == nil && in.Archived != nil {
		l, err = s.store.ArchiveLocation(ctx, sc, id, *in.Archived)
	}
	if err != nil {
		return err
	}
	return s.sendLocation(c, l)
}

func (s *Server) apiListInboxes(c *fiber.Ctx) error {
	var cur idCursor
	limit, err := pageParams(c, &cur)
	if err != nil {
		return err
	}
	ibs, err := s.store.AllInboxes(c.UserContext(), sessionUser(c).Scope, cur.ID, limit+1)
	if err != nil {
		return err
	}
	out := apiList[apiInboxOut]{Data: []apiInboxOut{}}
	for i := range ibs {
		if i == limit {
			out.NextCursor = makeCursor(idCursor{ID: ibs[i-1].ID})
			break
		}
		out.Data = append(out.Data, apiInbox(&ibs[i]))
	}
	return c.JSON(out)
}

func (s *Server) apiCreateInbox(c *fiber.Ctx) error {
	var in apiInboxIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ib, err := s.store.CreateInbox(c.UserContext(), sessionUser(c).Scope, in.input())
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(apiInbox(ib))
}

func (s *Server) apiGetInbox(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ib, err := s.store.InboxByID(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	return c.JSON(apiInbox(ib))
}

func (s *Server) apiPatchInbox(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in apiInboxPatch
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx, sc := c.UserContext(), sessionUser(c).Scope
	ib, err := s.store.InboxByID(ctx, sc, id)
	if err == nil && !in.empty() {
		ib, err = s.store.UpdateInbox(ctx, sc, id, in.input())
	}
	if err == nil && in.Archived != nil {
		ib, err = s.store.ArchiveInbox(ctx, sc, id, *in.Archived)
	}
	if err != nil {
		return err
	}
	return c.JSON(apiInbox(ib))
}

func (s *Server) apiDeleteInbox(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	err = s.store.DeleteInbox(c.UserContext(), sessionUser(c).Scope, id)
	if errors.Is(err, models.ErrInboxInUse) {
		return &apiError{Status: http.StatusConflict, Type: problemTypeBase + "inbox-in-use",
			Detail: "The inbox has conversations, so it cannot be deleted; archive it instead (PATCH with {\"archived\": true})."}
	}
	if err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}
