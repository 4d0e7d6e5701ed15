package models

import (
	"fmt"

	"github.com/alexedwards/argon2id"
)

// MinPasswordLength is the shortest password accepted for a user.
const MinPasswordLength = 10

// dummyHash is compared against when the email is unknown, so a failed
// login takes as long whether or not the account exists.
const dummyHash = "$argon2id$v=19$m=65536,t=1,p=2$c29tZXNhbHRzb21lc2FsdA$2T0CqGkq1pPu9LqvQb8W0VjH8c0m8uXr1a4iPzq9yZc"

// HashPassword hashes a password with argon2id (RFC 9106 parameters as
// chosen by the argon2id package's defaults: 64 MiB, 1 pass, 2 lanes).
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLength {
		return "", fmt.Errorf("password must be at least %d characters", MinPasswordLength)
	}
	h, err := argon2id.CreateHash(password, argon2id.DefaultParams)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// checkPassword reports whether password matches hash; malformed hashes never match.
func checkPassword(password, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return err == nil && ok
}
