package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
)

// MaxHelpText is the longest HELP reply text an inbox may have.
const MaxHelpText = 480

// InboxInput creates or changes an inbox; a nil field is left as it is.
// SMSNumber is read in the organization's default country and stored as
// E.164; SMSNumber or EmailAddress "" removes it. BusinessHours empty
// means always open.
type InboxInput struct {
	Name          *string
	LocationID    *int64
	SMSNumber     *string
	EmailAddress  *string
	HelpText      *string
	BusinessHours *BusinessHours
}

// inboxAudit is what the audit log records of an inbox.
type inboxAudit struct {
	Name          string        `json:"name"`
	LocationID    int64         `json:"location_id"`
	SMSNumber     *string       `json:"sms_number"`
	EmailAddress  *string       `json:"email_address"`
	HelpText      string        `json:"help_text"`
	BusinessHours BusinessHours `json:"business_hours"`
	Archived      bool          `json:"archived"`
}

func (ib *Inbox) audited() inboxAudit {
	bh := BusinessHours{}
	for k, v := range ib.BusinessHours {
		bh[k] = append([][2]string(nil), v...)
	}
	return inboxAudit{Name: ib.Name, LocationID: ib.LocationID, SMSNumber: ib.SMSNumber, EmailAddress: ib.EmailAddress,
		HelpText: ib.HelpText, BusinessHours: bh, Archived: ib.ArchivedAt != nil}
}

// ErrInboxInUse: the inbox has conversations, so it may only be archived.
var ErrInboxInUse = fmt.Errorf("the inbox has conversations; archive it instead: %w", ErrConflict)

// AllInboxes lists the organization's inboxes the scope may see (a
// limited agent: its own) with their locations, archived ones included,
// by id: those after afterID, at most limit (0: all).
func (s *Store) AllInboxes(ctx context.Context, sc Scope, afterID int64, limit int) ([]Inbox, error) {
	var ibs []Inbox
	q := s.db.NewSelect().Model(&ibs).Relation("Location").
		Where("inbox.org_id = ? AND inbox.id > ?", sc.OrgID, afterID).Order("inbox.id")
	q = visibleInboxes(q, sc, "inbox.id")
	if limit > 0 {
		q = q.Limit(int64(limit))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: all inboxes: %w", err)
	}
	return ibs, nil
}

// InboxByID loads one of the organization's inboxes, with its location;
// an inbox the scope may not see is ErrNotFound.
func (s *Store) InboxByID(ctx context.Context, sc Scope, id int64) (*Inbox, error) {
	if !sc.CanSeeInbox(id) {
		return nil, fmt.Errorf("store: inbox: %w", ErrNotFound)
	}
	ib := new(Inbox)
	err := s.db.NewSelect().Model(ib).Relation("Location").
		Where("inbox.id = ? AND inbox.org_id = ?", id, sc.OrgID).Scan(ctx)
	if err != nil {
		return nil, notFound("inbox", err)
	}
	return ib, nil
}

// CreateInbox adds an inbox to one of the organization's locations that is
// not archived (admins only).
func (s *Store) CreateInbox(ctx context.Context, sc Scope, in InboxInput) (*Inbox, error) {
	if err := require(sc, PermManageSettings); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, fieldErr("name", "The name is required.")
	}
	if in.LocationID == nil {
		return nil, fieldErr("location_id", "Choose a location.")
	}
	ib := &Inbox{OrgID: sc.OrgID, BusinessHours: BusinessHours{}}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := in.apply(ctx, tx, ib); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(ib).
			Column("org_id", "location_id", "name", "sms_number", "email_address", "help_text", "business_hours").
			Returning("*").Exec(ctx)
		if err != nil {
			return inboxWriteErr(err)
		}
		return audit(ctx, tx, sc, AuditChange{Action: "inbox.create", TargetType: "inbox",
			TargetID: ib.ID, TargetName: ib.Name, After: ib.audited()})
	})
	if err != nil {
		return nil, err
	}
	return s.InboxByID(ctx, sc, ib.ID)
}

// UpdateInbox changes the fields in set (admins only) and records the change.
func (s *Store) UpdateInbox(ctx context.Context, sc Scope, id int64, in InboxInput) (*Inbox, error) {
	return s.changeInbox(ctx, sc, id, "inbox.update", func(tx bun.Tx, ib *Inbox) error { return in.apply(ctx, tx, ib) })
}

// ArchiveInbox archives an inbox (archived true) or brings it back. An
// archived inbox keeps its conversations, and inbound messages still reach
// it, but no one may start a new chat from it.
func (s *Store) ArchiveInbox(ctx context.Context, sc Scope, id int64, archived bool) (*Inbox, error) {
	action := "inbox.unarchive"
	if archived {
		action = "inbox.archive"
	}
	return s.changeInbox(ctx, sc, id, action, func(_ bun.Tx, ib *Inbox) error {
		switch {
		case archived && ib.ArchivedAt == nil:
			now := time.Now().UTC()
			ib.ArchivedAt = &now
		case !archived:
			ib.ArchivedAt = nil
		}
		return nil
	})
}

// changeInbox locks an inbox, applies change, and saves and audits it if
// anything changed.
func (s *Store) changeInbox(ctx context.Context, sc Scope, id int64, action string, change func(bun.Tx, *Inbox) error) (*Inbox, error) {
	if err := require(sc, PermManageSettings); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		ib := new(Inbox)
		if err := tx.NewSelect().Model(ib).Where("id = ? AND org_id = ?", id, sc.OrgID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("inbox", err)
		}
		before := ib.audited()
		if err := change(tx, ib); err != nil {
			return err
		}
		after := ib.audited()
		if sameJSON(before, after) {
			return nil
		}
		_, err := tx.NewUpdate().Model(ib).
			Column("location_id", "name", "sms_number", "email_address", "help_text", "business_hours", "archived_at").
			WherePK().Exec(ctx)
		if err != nil {
			return inboxWriteErr(err)
		}
		return audit(ctx, tx, sc, AuditChange{Action: action, TargetType: "inbox",
			TargetID: ib.ID, TargetName: ib.Name, Before: before, After: after})
	})
	if err != nil {
		return nil, err
	}
	return s.InboxByID(ctx, sc, id)
}

// DeleteInbox deletes an inbox that has never had a conversation (admins
// only); one with conversations is ErrInboxInUse (a conflict: archive it).
func (s *Store) DeleteInbox(ctx context.Context, sc Scope, id int64) error {
	if err := require(sc, PermManageSettings); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx bun.Tx) error {
		ib := new(Inbox)
		// FOR UPDATE blocks a conversation being inserted meanwhile (its
		// foreign key check locks the inbox row too).
		if err := tx.NewSelect().Model(ib).Where("id = ? AND org_id = ?", id, sc.OrgID).For("UPDATE").Scan(ctx); err != nil {
			return notFound("inbox", err)
		}
		used, err := tx.NewSelect().Table("conversations").Where("inbox_id = ?", id).Exists(ctx)
		if err != nil {
			return fmt.Errorf("store: delete inbox: %w", err)
		}
		if used {
			return ErrInboxInUse
		}
		if _, err := tx.NewDelete().Model(ib).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("store: delete inbox: %w", err)
		}
		return audit(ctx, tx, sc, AuditChange{Action: "inbox.delete", TargetType: "inbox",
			TargetID: ib.ID, TargetName: ib.Name, Before: ib.audited()})
	})
}

// apply validates the input's fields and sets them on ib.
func (in InboxInput) apply(ctx context.Context, tx bun.Tx, ib *Inbox) error {
	if in.Name != nil {
		name, err := cleanName("name", "The name", *in.Name)
		if err != nil {
			return err
		}
		ib.Name = name
	}
	if in.LocationID != nil && *in.LocationID != ib.LocationID {
		loc := new(Location)
		err := tx.NewSelect().Model(loc).Where("id = ? AND org_id = ?", *in.LocationID, ib.OrgID).Scan(ctx)
		if err != nil {
			if errors.Is(notFound("location", err), ErrNotFound) {
				return fieldErr("location_id", "Choose a location.")
			}
			return fmt.Errorf("store: inbox location: %w", err)
		}
		if loc.ArchivedAt != nil {
			return fieldErr("location_id", "The %s location is archived; choose another or unarchive it.", loc.Name)
		}
		ib.LocationID = loc.ID
	}
	if in.SMSNumber != nil {
		if err := setInboxNumber(ctx, tx, ib, *in.SMSNumber); err != nil {
			return err
		}
	}
	if in.EmailAddress != nil {
		if err := setInboxEmail(ctx, tx, ib, *in.EmailAddress); err != nil {
			return err
		}
	}
	if in.HelpText != nil {
		h := strings.TrimSpace(*in.HelpText)
		if err := checkText("help_text", "The help text", h); err != nil {
			return err
		}
		if len([]rune(h)) > MaxHelpText {
			return fieldErr("help_text", "The help text is too long (at most %d characters).", MaxHelpText)
		}
		ib.HelpText = h
	}
	if in.BusinessHours != nil {
		bh := BusinessHours{}
		for k, v := range *in.BusinessHours {
			bh[k] = append([][2]string(nil), v...)
		}
		if err := bh.Validate(); err != nil {
			return err
		}
		ib.BusinessHours = bh
	}
	return nil
}

// setInboxNumber normalizes a typed number with the organization's
// default country and checks no other inbox, of any organization, has it.
func setInboxNumber(ctx context.Context, tx bun.Tx, ib *Inbox, raw string) error {
	if strings.TrimSpace(raw) == "" {
		ib.SMSNumber = nil
		return nil
	}
	var country string
	if err := tx.NewSelect().Table("organizations").Column("default_country").Where("id = ?", ib.OrgID).Scan(ctx, &country); err != nil {
		return fmt.Errorf("store: inbox number: %w", err)
	}
	num, err := NormalizePhone(raw, country)
	if err != nil {
		return fieldErr("sms_number", "Enter a phone number, e.g. +15551234567 (local numbers are read as %s).", country)
	}
	taken, err := tx.NewSelect().Table("inboxes").Where("sms_number = ? AND id <> ?", num, ib.ID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("store: inbox number: %w", err)
	}
	if taken {
		return errNumberTaken()
	}
	ib.SMSNumber = &num
	return nil
}

// setInboxEmail lower-cases a typed address and checks no other inbox has it.
func setInboxEmail(ctx context.Context, tx bun.Tx, ib *Inbox, raw string) error {
	if strings.TrimSpace(raw) == "" {
		ib.EmailAddress = nil
		return nil
	}
	addr, ok := ParseEmail(raw)
	if !ok || strings.ContainsAny(addr, " <>") {
		return fieldErr("email_address", "Enter an email address, e.g. help@example.com.")
	}
	taken, err := tx.NewSelect().Table("inboxes").Where("email_address = ? AND id <> ?", addr, ib.ID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("store: inbox email: %w", err)
	}
	if taken {
		return errEmailTaken()
	}
	ib.EmailAddress = &addr
	return nil
}

// Another organization's inbox is never named.
func errNumberTaken() error { return fieldErr("sms_number", "This number belongs to another inbox.") }
func errEmailTaken() error {
	return fieldErr("email_address", "This address belongs to another inbox.")
}

// inboxWriteErr explains a refused insert or update (a race the checks
// before it lost).
func inboxWriteErr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		switch pgErr.ConstraintName {
		case "inboxes_sms_number_key":
			return errNumberTaken()
		case "inboxes_email_address_key":
			return errEmailTaken()
		}
	}
	return fmt.Errorf("store: save inbox: %w", err)
}
