package email

import "errors"

// Errors Parse refuses a message with. Every error Parse returns wraps
// exactly one of them, so callers can answer with errors.Is.
var (
	// ErrTooLarge: the raw message is over Limits.MaxBytes.
	ErrTooLarge = errors.New("email: message too large")
	// ErrTooComplex: too many MIME parts or multiparts nested too deep
	// (a MIME bomb).
	ErrTooComplex = errors.New("email: too many MIME parts or nesting too deep")
	// ErrMalformed: the message cannot be parsed, or has no usable sender.
	ErrMalformed = errors.New("email: malformed message")
)
