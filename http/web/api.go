package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// apiPrefix is where the JSON API lives (spec/api.md). It authenticates
// with bearer tokens, not the session cookie, so routes.go mounts it
// before the session and CSRF checks.
const apiPrefix = "/api/v1"

// problem is an RFC 9457 problem details object, the API's error body.
type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Errors []fieldProblem `json:"errors,omitempty"`
	// Balance and Needed extend an insufficient-credits problem (402):
	// the credits available and what the message costs.
	Balance *int64 `json:"balance,omitempty"`
	Needed  *int64 `json:"needed,omitempty"`
}

// fieldProblem names one bad field of a request.
type fieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// apiError is an error a handler returns to answer a problem with its own
// type (for example a refused send) and fields.
type apiError struct {
	Status int
	Type   string // a URI naming the kind of problem ("" = about:blank)
	Detail string
	Fields []fieldProblem
	// Title, when set, replaces the status's text.
	Title string
	// Balance and Needed: the problem's extension members (402).
	Balance, Needed *int64
}

func (e *apiError) Error() string { return e.Detail }

// problemTypeBase prefixes Parley's own problem types.
const problemTypeBase = "https://parley.chat/problems/"

// underAPI says whether a path is the API's. Fiber's groups match a bare
// prefix, so /api/v1x would be taken too without this check.
func underAPI(path string) bool {
	return path == apiPrefix || strings.HasPrefix(path, apiPrefix+"/")
}

// apiProblems answers every error under /api/v1 as problem details, so the
// API's handlers return errors as the pages' handlers do: a
// *models.FieldError is a 422 naming the field, models.ErrNotFound (and a
// refused permission) a 404, models.ErrConflict a 409.
func (s *Server) apiProblems(c *fiber.Ctx) error {
	if !underAPI(c.Path()) {
		return c.Next()
	}
	err := c.Next()
	if err == nil {
		return nil
	}
	p := problem{Type: "about:blank", Status: http.StatusInternalServerError, Detail: "The error was logged."}
	var (
		fe *fiber.Error
		ae *apiError
	)
	switch {
	case errors.As(err, &ae):
		p.Status, p.Detail, p.Errors = ae.Status, ae.Detail, ae.Fields
		p.Title, p.Balance, p.Needed = ae.Title, ae.Balance, ae.Needed
		if ae.Type != "" {
			p.Type = ae.Type
		}
	case asFieldError(err) != nil:
		f := asFieldError(err)
		p.Status, p.Type, p.Detail = http.StatusUnprocessableEntity, problemTypeBase+"validation", f.Message
		p.Errors = []fieldProblem{{Field: f.Field, Message: f.Message}}
	case errors.As(err, &fe):
		p.Status, p.Detail = fe.Code, fe.Message
	case errors.Is(err, models.ErrNotFound):
		p.Status, p.Detail = http.StatusNotFound, "No such resource, or not yours to see."
	case errors.Is(err, models.ErrConflict):
		p.Status, p.Detail = http.StatusConflict, err.Error()
	}
	if p.Status >= 500 {
		s.log.Error("api request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	return sendProblem(c, p)
}

// writeProblem sends a problem details response.
func writeProblem(c *fiber.Ctx, code int, detail string) error {
	return sendProblem(c, problem{Type: "about:blank", Status: code, Detail: detail})
}

func sendProblem(c *fiber.Ctx, p problem) error {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	c.Status(p.Status)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(p, "application/problem+json")
}

// apiNotFound ends the API's route table: a path under /api/v1 that no
// handler took is a 404 problem, never a page.
func apiNotFound(c *fiber.Ctx) error {
	if !underAPI(c.Path()) {
		return c.Next()
	}
	return fiber.NewError(fiber.StatusNotFound, "No such API endpoint.")
}

// decodeJSON reads a JSON request body into v. A body that is not JSON, or
// names a field v does not have, is a 422 problem naming what is wrong;
// nothing is changed.
func decodeJSON(c *fiber.Ctx, v any) error {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	if !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return &apiError{Status: http.StatusUnsupportedMediaType, Detail: "Send the body as application/json."}
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "validation",
			Detail: "The body must be one JSON object."}
	}
	return nil
}

// badJSON explains a decoding error, naming the field where it can.
func badJSON(err error) error {
	ae := &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "validation"}
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		ae.Detail = fmt.Sprintf("%s must be a JSON %s.", te.Field, te.Type.Kind())
		ae.Fields = []fieldProblem{{Field: te.Field, Message: ae.Detail}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		ae.Detail = "There is no field " + strconv.Quote(f) + "."
		ae.Fields = []fieldProblem{{Field: f, Message: "Unknown field."}}
	default:
		ae.Detail = "The body is not valid JSON: " + err.Error()
	}
	return ae
}

// apiList is a page of a list: the items and the cursor of the next page
// ("" on the last).
type apiList[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

// pageParams reads ?limit= (default 50, at most 200) and decodes ?cursor=
// into cur (left as is when there is none). A malformed value is a 422.
func pageParams(c *fiber.Ctx, cur any) (limit int, err error) {
	limit = 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return 0, &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "validation",
				Detail: "limit must be a whole number from 1 to 200.", Fields: []fieldProblem{{Field: "limit", Message: "From 1 to 200."}}}
		}
		limit = n
	}
	if v := c.Query("cursor"); v != "" {
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err == nil {
			err = json.Unmarshal(raw, cur)
		}
		if err != nil {
			return 0, &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "validation",
				Detail: "cursor is not one this API gave out.", Fields: []fieldProblem{{Field: "cursor", Message: "Use next_cursor from the previous page."}}}
		}
	}
	return limit, nil
}

// makeCursor encodes a keyset position (any JSON value) as an opaque cursor.
func makeCursor(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

// pathID reads a positive integer path parameter; anything else is a 404.
func pathID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.ErrNotFound
	}
	return id, nil
}
