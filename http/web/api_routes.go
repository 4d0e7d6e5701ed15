package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// apiRoutes is the JSON API's route table (spec/api.md). Every route goes
// through apiHandle, so openapi.json describes it. Each resource's routes
// live beside its handlers, one function per resource.
func (s *Server) apiRoutes(api fiber.Router) {
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/me", Tag: "me",
		Summary: "The token's user, organization and permissions", Out: apiMeOut{}}, s.apiMe)
	s.apiTeamRoutes(api) // api_team.go
	s.apiSettingsRoutes(api)
	s.apiChatRoutes(api)
	s.apiAuditRoutes(api)
	s.apiCreditsRoutes(api)   // api_credits.go
	s.apiPlanRoutes(api)      // api_credits_plan.go
	s.apiImportRoutes(api)    // import_api.go
	s.apiBroadcastRoutes(api) // api_broadcasts.go
	s.apiGroupRoutes(api)     // api_groups.go
}

// rfc3339 formats a time as the API does: RFC 3339 in UTC.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// timePtr formats an optional time as the API does (nil stays null).
func timePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := rfc3339(*t)
	return &s
}
