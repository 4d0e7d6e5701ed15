package models

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on. Store methods wrap them with context;
// test with errors.Is.
var (
	// ErrNotFound: no such row, or not visible to the caller's scope. The
	// two are deliberately indistinguishable (R9: never confirm existence).
	ErrNotFound = errors.New("not found")
	// ErrInvalidCredentials: unknown email, wrong password or disabled user.
	ErrInvalidCredentials = errors.New("invalid email or password")
	// ErrConflict: a uniqueness rule refused the write.
	ErrConflict = errors.New("conflict")
)

// Errors of the chat actions, for callers to branch on.
var (
	// ErrOptedOut: the recipient opted out of this channel; nothing may be sent.
	ErrOptedOut = errors.New("recipient opted out")
	// ErrPlanInactive: the location's Chat plan is not active.
	ErrPlanInactive = errors.New("chat plan not active")
)

// FieldError is bad input in one form field, shown next to that field.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}
