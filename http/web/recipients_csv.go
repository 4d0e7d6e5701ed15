package web

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// The recipients list's filter (?q=&group_id=) as the Recipients page,
// its CSV download (GET /recipients.csv) and GET /api/v1/recipients read
// it, and the CSV stream the download and the API (Accept: text/csv) send.

// recipientsCSVTimeout bounds one CSV download.
const recipientsCSVTimeout = 10 * time.Minute

// recipientFilter reads ?q=&group_id=. A bad value is a
// *models.FieldError naming the parameter (the store says whether the
// group is the organization's).
func recipientFilter(c *fiber.Ctx) (models.RecipientFilter, error) {
	f := models.RecipientFilter{Query: strings.TrimSpace(c.Query("q"))}
	if len(f.Query) > 200 {
		return f, &models.FieldError{Field: "q", Message: "At most 200 characters."}
	}
	if v := c.Query("group_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, &models.FieldError{Field: "group_id", Message: "Choose a group (a group id)."}
		}
		f.GroupID = id
	}
	return f, nil
}

// sendRecipientsCSV answers with everyone f matches as a CSV file,
// streamed: the store writes batch by batch as the client reads. f is
// checked first, so a refusal is still an ordinary error response.
func (s *Server) sendRecipientsCSV(c *fiber.Ctx, sc models.Scope, f models.RecipientFilter) error {
	if err := s.store.CheckRecipientFilter(c.UserContext(), sc, f); err != nil {
		return err
	}
	name := "parley-recipients"
	if f.GroupID != 0 {
		name += "-group-" + strconv.FormatInt(f.GroupID, 10)
	}
	c.Status(http.StatusOK)
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("attachment", name+".csv"))
	c.Set(fiber.HeaderCacheControl, "no-store")
	// The writer runs after this handler returns, when c is no longer
	// ours: it gets copies of what it needs.
	store, log := s.store, s.log
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), recipientsCSVTimeout)
		defer cancel()
		n, err := store.WriteRecipientsCSV(ctx, sc, f, w)
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			log.Error("recipients csv", "org", sc.OrgID, "group", f.GroupID, "rows", n, "err", fmt.Errorf("web: recipients csv: %w", err))
		}
	})
	return nil
}

// recipientsCSV is the Recipients page's download: GET /recipients.csv?q=&group_id=.
func (s *Server) recipientsCSV(c *fiber.Ctx) error {
	f, err := recipientFilter(c)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	return s.sendRecipientsCSV(c, sessionUser(c).Scope, f)
}
