package models

import "errors"

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
