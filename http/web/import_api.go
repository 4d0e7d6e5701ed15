package web

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// The imports API (issue 13): the same store methods as the import page.

// apiImportErrorsMax caps the errors a GET of an import lists; the whole
// report is errors.csv.
const apiImportErrorsMax = 100

// apiImportCreated is POST /imports's answer.
type apiImportCreated struct {
	ID     int64  `json:"id"`
	Status string `json:"status" jsonschema:"enum=running"`
}

// apiImportError is one refused row.
type apiImportError struct {
	Row     int    `json:"row" jsonschema:"description=the file's row number (the header is row 1)"`
	Field   string `json:"field" jsonschema:"description=the field refused; empty when the row could not be read"`
	Message string `json:"message"`
}

// apiImportOut is an import's progress and outcome.
type apiImportOut struct {
	ID        int64            `json:"id"`
	Status    string           `json:"status" jsonschema:"enum=preview,enum=running,enum=done,enum=failed,enum=cancelled"`
	Reason    string           `json:"status_reason"`
	Total     int              `json:"total" jsonschema:"description=data rows in the file"`
	Processed int              `json:"processed" jsonschema:"description=rows checked and staged so far"`
	Imported  int              `json:"imported" jsonschema:"description=recipients added"`
	Merged    int              `json:"merged" jsonschema:"description=rows merged into an existing recipient or an earlier row"`
	Failed    int              `json:"failed" jsonschema:"description=rows refused"`
	Errors    []apiImportError `json:"errors" jsonschema:"description=the first 100 refused rows' errors; all of them in errors.csv"`
	CreatedAt string           `json:"created_at" jsonschema:"format=date-time"`
	Finished  *string          `json:"finished_at" jsonschema:"format=date-time"`
}

func (s *Server) apiImportRoutes(api fiber.Router) {
	var fields []apiParam
	for _, f := range models.ImportFields() {
		fields = append(fields, apiParam{Name: f.Key + "_column", Description: "the column (its header, or its position from 1) that holds " + strings.ToLower(f.Label) + "; default: guessed from the header"})
	}
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/imports", Tag: "imports", Status: http.StatusAccepted,
		Summary: "Import recipients from a CSV file (the request body, text/csv, at most 20 MB); runs as a job",
		Body:    "", BodyType: "text/csv", Out: apiImportCreated{},
		Query: append([]apiParam{
			{Name: "group_id", Type: "integer", Description: "add every imported row to this group"},
			{Name: "location_id", Type: "integer", Description: "home location of the recipients added"},
			{Name: "filename", Description: "a name to show for the file"},
		}, fields...)}, s.apiCreateImport)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/imports/:id<int>", Tag: "imports",
		Summary: "An import's status, counts and first errors", Out: apiImportOut{}, AlsoProduces: "text/csv"}, s.apiImport)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/imports/:id<int>/errors.csv", Tag: "imports",
		Summary: "The error report: row, field, message and the row's original values", Out: "", Produces: "text/csv"}, s.apiImportErrorsCSV)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/imports/:id<int>/cancel", Tag: "imports",
		Summary: "Cancel an import before it is applied (nothing is imported); 409 once done", Out: apiImportOut{}}, s.apiCancelImport)
}

// importQueryID reads an optional positive integer query parameter.
func importQueryID(c *fiber.Ctx, name string) (*int64, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, &apiError{Status: http.StatusUnprocessableEntity, Type: problemTypeBase + "validation",
			Detail: name + " is not an id.", Fields: []fieldProblem{{Field: name, Message: "Give a positive integer."}}}
	}
	return &id, nil
}

func (s *Server) apiCreateImport(c *fiber.Ctx) error {
	in := models.ImportInput{Filename: c.Query("filename"), Data: c.Body(), Start: true, Overrides: map[string]string{}}
	var err error
	if in.GroupID, err = importQueryID(c, "group_id"); err != nil {
		return err
	}
	if in.LocationID, err = importQueryID(c, "location_id"); err != nil {
		return err
	}
	for _, f := range models.ImportFields() {
		if v, ok := c.Queries()[f.Key+"_column"]; ok {
			in.Overrides[f.Key] = v
		}
	}
	im, err := s.store.CreateImport(c.UserContext(), sessionUser(c).Scope, in)
	if err != nil {
		return err
	}
	c.Status(http.StatusAccepted)
	return c.JSON(apiImportCreated{ID: im.ID, Status: im.Status})
}

func (s *Server) importOut(c *fiber.Ctx, im *models.Import) (apiImportOut, error) {
	out := apiImportOut{ID: im.ID, Status: im.Status, Reason: im.StatusReason, Total: im.Total, Processed: im.Processed,
		Imported: im.Imported, Merged: im.Merged, Failed: im.Failed, Errors: []apiImportError{},
		CreatedAt: rfc3339(im.CreatedAt), Finished: timePtr(im.FinishedAt)}
	errs, err := s.store.ImportErrors(c.UserContext(), sessionUser(c).Scope, im.ID, apiImportErrorsMax)
	if err != nil {
		return out, err
	}
	for _, e := range errs {
		out.Errors = append(out.Errors, apiImportError(e))
	}
	return out, nil
}

func (s *Server) apiImport(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if strings.Contains(c.Get(fiber.HeaderAccept), "text/csv") {
		return s.apiImportErrorsCSV(c)
	}
	im, err := s.store.ImportByID(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	out, err := s.importOut(c, im)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// apiImportErrorsCSV sends the error report (the page's download too).
func (s *Server) apiImportErrorsCSV(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.store.ImportErrorReport(c.UserContext(), sessionUser(c).Scope, id, &buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="import-`+strconv.FormatInt(id, 10)+`-errors.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

func (s *Server) apiCancelImport(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	im, err := s.store.CancelImport(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	if im, err = s.store.ImportByID(c.UserContext(), sessionUser(c).Scope, im.ID); err != nil {
		return err
	}
	out, err := s.importOut(c, im)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// importBodyLimit admits an import's file (models.ImportMaxBytes) and a
// form's overhead, on the two upload routes only (limitBodies keeps every
// other route at BodyLimit).
const importBodyLimit = models.ImportMaxBytes + 64<<10

// isImportUpload reports whether the request uploads an import's file.
func isImportUpload(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && (c.Path() == apiPrefix+"/imports" || c.Path() == "/recipients/import")
}
