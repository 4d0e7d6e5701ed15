package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/invopop/jsonschema"
)

// apiOp describes one API route. Every /api/v1 route is registered through
// apiHandle with its apiOp, so GET /api/v1/openapi.json describes exactly
// the routes the server answers (a test checks the two agree).
type apiOp struct {
	Method  string
	Path    string // Fiber syntax below /api/v1, e.g. "/inboxes/:id"
	Summary string
	Tag     string
	Query   []apiParam
	// Body is a value of the request body's type (nil: no body).
	Body any
	// BodyType is the request body's media type when it is not JSON (a
	// file, say text/csv): described as a string.
	BodyType string
	// Out is a value of the success body's type (nil: 204 No Content).
	Out any
	// Produces is the success body's media type when it is not JSON (a
	// file): described as a string of bytes, Out aside.
	Produces string
	// AlsoProduces is another media type the success body may take, by
	// the request's Accept header (say text/csv beside a JSON list).
	AlsoProduces string
	// List: the success body is {"data": [Out...], "next_cursor": "..."}.
	List bool
	// Status is the success status (0: 200, or 204 without Out).
	Status int
	// Public: no bearer token (only openapi.json).
	Public bool
	// Idempotent: the route honours an Idempotency-Key header.
	Idempotent bool
	// Problems documents problem responses by status (say, a send's 402),
	// each with what it means; every route also has the default problem.
	Problems map[int]string
}

// apiParam is a query parameter.
type apiParam struct {
	Name        string
	Description string
	Type        string // "string" (default), "integer", "boolean"
	Required    bool
}

// apiHandle registers an API route and its description.
func (s *Server) apiHandle(r fiber.Router, op apiOp, h ...fiber.Handler) {
	r.Add(op.Method, op.Path, h...)
	s.apiOps = append(s.apiOps, op)
}

var fiberParam = regexp.MustCompile(`:([a-zA-Z_]+)(<[^>]*>)?`)

// openAPIPath turns a Fiber path into an OpenAPI one and names its parameters.
func openAPIPath(p string) (string, []string) {
	var names []string
	out := fiberParam.ReplaceAllStringFunc(p, func(m string) string {
		name := fiberParam.FindStringSubmatch(m)[1]
		names = append(names, name)
		return "{" + name + "}"
	})
	return apiPrefix + out, names
}

// openAPIDoc builds the OpenAPI 3.1 document from the registered routes.
func (s *Server) openAPIDoc() ([]byte, error) {
	ref := &jsonschema.Reflector{DoNotReference: true, ExpandedStruct: true, AllowAdditionalProperties: false}
	schema := func(v any) any {
		sc := ref.Reflect(v)
		sc.Version = ""
		return sc
	}
	problemRef := map[string]any{"$ref": "#/components/responses/Problem"}
	paths := map[string]map[string]any{}
	for _, op := range s.apiOps {
		path, params := openAPIPath(op.Path)
		o := map[string]any{
			"summary":     op.Summary,
			"operationId": strings.ToLower(op.Method) + strings.NewReplacer("/", "_", "{", "", "}", "").Replace(strings.TrimPrefix(path, apiPrefix)),
		}
		if op.Tag != "" {
			o["tags"] = []string{op.Tag}
		}
		if op.Public {
			o["security"] = []any{}
		}
		var ps []any
		for _, name := range params {
			ps = append(ps, map[string]any{"name": name, "in": "path", "required": true,
				"schema": map[string]any{"type": "integer", "minimum": 1}})
		}
		query := op.Query
		if op.List {
			query = append(query,
				apiParam{Name: "cursor", Description: "next_cursor of the previous page"},
				apiParam{Name: "limit", Type: "integer", Description: "items per page, 1 to 200 (default 50)"})
		}
		for _, q := range query {
			t := q.Type
			if t == "" {
				t = "string"
			}
			ps = append(ps, map[string]any{"name": q.Name, "in": "query", "required": q.Required,
				"description": q.Description, "schema": map[string]any{"type": t}})
		}
		if op.Idempotent {
			ps = append(ps, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
				"description": "the same key within 24 hours returns the first result and creates nothing new",
				"schema":      map[string]any{"type": "string", "maxLength": 255}})
		}
		if len(ps) > 0 {
			o["parameters"] = ps
		}
		if op.Body != nil && op.BodyType != "" {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				op.BodyType: map[string]any{"schema": map[string]any{"type": "string"}}}}
		} else if op.Body != nil {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schema(op.Body)}}}
		}
		status := op.Status
		resp := map[string]any{"default": problemRef}
		switch {
		case op.Out == nil:
			if status == 0 {
				status = http.StatusNoContent
			}
			resp[fmt.Sprint(status)] = map[string]any{"description": http.StatusText(status)}
		case op.Produces != "":
			if status == 0 {
				status = http.StatusOK
			}
			resp[fmt.Sprint(status)] = map[string]any{"description": http.StatusText(status),
				"content": map[string]any{op.Produces: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
		default:
			if status == 0 {
				status = http.StatusOK
			}
			body := schema(op.Out)
			if op.List {
				body = map[string]any{"type": "object", "required": []string{"data", "next_cursor"},
					"properties": map[string]any{
						"data":        map[string]any{"type": "array", "items": body},
						"next_cursor": map[string]any{"type": "string", "description": "empty on the last page"},
					}}
			}
			content := map[string]any{"application/json": map[string]any{"schema": body}}
			if op.AlsoProduces != "" {
				content[op.AlsoProduces] = map[string]any{"schema": map[string]any{"type": "string"}}
			}
			resp[fmt.Sprint(status)] = map[string]any{"description": http.StatusText(status), "content": content}
		}
		for st, desc := range op.Problems {
			resp[fmt.Sprint(st)] = map[string]any{"description": desc,
				"content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
		}
		o["responses"] = resp
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(op.Method)] = o
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Parley API", "version": "1",
			"description": "Everything an agent or admin can do in the browser. Bearer tokens from Profile → API tokens or `parley token create`."},
		"servers":  []any{map[string]any{"url": s.cfg.BaseURL}},
		"security": []any{map[string]any{"bearer": []string{}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas":         map[string]any{"Problem": schema(problem{})},
			"responses": map[string]any{"Problem": map[string]any{
				"description": "RFC 9457 problem details",
				"content":     map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}},
			}},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// openAPI serves the document (no token needed).
func (s *Server) openAPI(c *fiber.Ctx) error {
	if s.apiDoc == nil {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(s.apiDoc)
}
