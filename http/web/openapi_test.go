package web_test

import (
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/http/web"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// fiberParamRe matches a Fiber path parameter (":id", ":id<int>").
var fiberParamRe = regexp.MustCompile(`:([A-Za-z_]+)(<[^>]*>)?`)

// TestOpenAPIDocument: GET /api/v1/openapi.json needs no token, is a valid
// OpenAPI 3.1 document, and lists exactly the API routes the server
// registers (each method of each path), so the description cannot drift.
func TestOpenAPIDocument(t *testing.T) {
	var app *fiber.App
	f := newFixtureWith(t, serverOpts{onServer: func(s *web.Server) { app = s.App() }})
	resp, body := f.client(t).get("/api/v1/openapi.json")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	doc, err := libopenapi.NewDocument([]byte(body))
	if err != nil {
		t.Fatalf("libopenapi cannot read the document: %v", err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Errorf("openapi version %q, want 3.1.0", v)
	}
	val, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := val.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("invalid OpenAPI 3.1: %s: %s", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  at %s: %s", se.FieldPath, se.Reason)
			}
		}
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("building the model: %v", err)
	}

	// What the document lists: "METHOD /api/v1/path/{id}".
	var described []string
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			described = append(described, strings.ToUpper(method)+" "+path)
		}
	}
	// What the server routes under /api/v1 (HEAD is answered as GET).
	var routed []string
	for _, r := range app.GetRoutes(true) {
		if r.Method == http.MethodHead || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		routed = append(routed, r.Method+" "+fiberParamRe.ReplaceAllString(r.Path, "{$1}"))
	}
	sort.Strings(described)
	sort.Strings(routed)
	routed = slices.Compact(routed)
	if len(routed) < 3 {
		t.Fatalf("only %d API routes registered: %v", len(routed), routed)
	}
	for _, r := range routed {
		if !slices.Contains(described, r) {
			t.Errorf("the server routes %s, which openapi.json does not describe (register it with apiHandle)", r)
		}
	}
	for _, d := range described {
		if !slices.Contains(routed, d) {
			t.Errorf("openapi.json describes %s, which the server does not route", d)
		}
	}
	// Every operation but the document itself needs the bearer token.
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			public := op.Security != nil && len(op.Security) == 0
			if public != (path == "/api/v1/openapi.json") {
				t.Errorf("%s %s: public %v", method, path, public)
			}
			if op.OperationId == "" || op.Summary == "" {
				t.Errorf("%s %s: no operationId or summary", method, path)
			}
		}
	}
}
