// Package migrations embeds Parley's SQL schema migrations. Each file pair
// YYYYMMDDHHMMSS_name.tx.{up,down}.sql runs in its own transaction; later
// issues add their tables with new pairs, never by editing applied ones.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
