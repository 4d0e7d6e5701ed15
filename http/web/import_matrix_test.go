package web_test

import (
	"context"
	"net/url"
	"testing"
)

// freshImport puts a new import, waiting for its mapping, in the matrix's
// organization ({import}).
func freshImport(t *testing.T, w *matrixWorld) {
	t.Helper()
	if err := w.f.Store.DB().NewRaw(`INSERT INTO imports (org_id, filename, data, mapping, total)
		VALUES (?, 'matrix.csv', convert_to(?, 'UTF8'), '["name","phone"]', 1) RETURNING id`,
		w.f.Demo.Org.ID, "name,phone\nMatrix,+15550107999\n").Scan(context.Background(), &w.imp); err != nil {
		t.Fatal(err)
	}
}

// importRows: the import page and the imports API. Importing changes the
// whole organization's recipients, so a limited agent may not (404).
var importRows = []matrixRow{
	{route: "GET /recipients/import", path: "/recipients/import", expect: "LNOOOOO"},
	{route: "POST /recipients/import", path: "/recipients/import", form: url.Values{}, expect: "LNIIIII"},
	{route: "GET /recipients/import/:id<int>", path: "/recipients/import/{import}", expect: "LNOOOON", prep: freshImport},
	{route: "GET /recipients/import/:id<int>/progress", path: "/recipients/import/{import}/progress", expect: "LNOOOON", prep: freshImport},
	{route: "GET /recipients/import/:id<int>/errors.csv", path: "/recipients/import/{import}/errors.csv", expect: "LNOOOON", prep: freshImport},
	{route: "POST /recipients/import/:id<int>/start", path: "/recipients/import/{import}/start", form: url.Values{"col": {"name", "phone"}}, expect: "LNOOOON", prep: freshImport},
	{route: "POST /recipients/import/:id<int>/cancel", path: "/recipients/import/{import}/cancel", form: url.Values{}, expect: "LNOOOON", prep: freshImport},
	{route: "POST /api/v1/imports", path: "/api/v1/imports", json: "phone\n+1555010{n}\n", expect: "LNOOOOO"},
	{route: "GET /api/v1/imports/:id<int>", path: "/api/v1/imports/{import}", expect: "LNOOOON", prep: freshImport},
	{route: "GET /api/v1/imports/:id<int>/errors.csv", path: "/api/v1/imports/{import}/errors.csv", expect: "LNOOOON", prep: freshImport},
	{route: "POST /api/v1/imports/:id<int>/cancel", path: "/api/v1/imports/{import}/cancel", expect: "LNOOOON", prep: freshImport},
}
