package models_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// BenchmarkGroupFilter: the recipients list of an organization of 100,000
// recipients, filtered by a group of all of them and by a group of 100
// (first page, and with a search), and adding all 100,000 to a group in
// one statement (timed once, logged). Run with
//
//	go test ./models/ -run '^$' -bench GroupFilter -benchtime 200x
func BenchmarkGroupFilter(b *testing.B) {
	ctx := context.Background()
	st := openStore(b)
	db := st.DB()
	slug := fmt.Sprintf("groups-bench-%d", time.Now().UnixNano())
	var org int64
	if err := db.NewRaw("INSERT INTO organizations (name, slug) VALUES ('Groups bench', ?) RETURNING id", slug).Scan(ctx, &org); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = db.NewRaw("DELETE FROM organizations WHERE id = ?", org).Exec(ctx) })
	var user int64
	if err := db.NewRaw("INSERT INTO users (org_id, email, name, role, password_hash) VALUES (?, ?, 'Bench', 'admin', 'x') RETURNING id",
		org, slug+"@bench.test").Scan(ctx, &user); err != nil {
		b.Fatal(err)
	}
	sc := models.Scope{OrgID: org, UserID: user, Role: models.RoleAdmin}
	if _, err := db.NewRaw(`INSERT INTO recipients (org_id, name, phone)
		SELECT ?, 'Person ' || i || CASE WHEN i % 1000 = 0 THEN ' martinez' ELSE '' END, '+1555' || lpad(i::text, 7, '0')
		FROM generate_series(1, 100000) AS i`, org).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	all, err := st.CreateGroup(ctx, sc, "Everyone")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	n, err := st.AddGroupMembersMatching(ctx, sc, all.ID, models.RecipientFilter{})
	if err != nil || n != 100000 {
		b.Fatalf("add all: %d, %v", n, err)
	}
	b.Logf("AddGroupMembersMatching of 100,000: %s", time.Since(start))
	small, err := st.CreateGroup(ctx, sc, "Hundred")
	if err != nil {
		b.Fatal(err)
	}
	if n, err := st.AddGroupMembersMatching(ctx, sc, small.ID, models.RecipientFilter{Query: "martinez"}); err != nil || n != 100 {
		b.Fatalf("add martinez: %d, %v", n, err)
	}
	if _, err := db.NewRaw("ANALYZE recipients; ANALYZE group_members").Exec(ctx); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		"SELECT r.id FROM recipients AS r WHERE r.org_id = ? ORDER BY r.id DESC LIMIT 51",
		"SELECT r.id FROM recipients AS r JOIN group_members AS fgm ON fgm.recipient_id = r.id WHERE r.org_id = ? AND fgm.group_id = ? ORDER BY fgm.recipient_id DESC LIMIT 51",
	} {
		var plan []string
		if err := db.NewRaw("EXPLAIN (ANALYZE, COSTS OFF) "+q, org, all.ID).Scan(ctx, &plan); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s\n%s", q, strings.Join(plan, "\n"))
	}
	for _, c := range []struct {
		name string
		f    models.RecipientFilter
	}{
		{"all", models.RecipientFilter{}},
		{"group-100k", models.RecipientFilter{GroupID: all.ID}},
		{"group-100", models.RecipientFilter{GroupID: small.ID}},
		{"group-100k+mart", models.RecipientFilter{GroupID: all.ID, Query: "mart"}},
		{"group-100+person 5", models.RecipientFilter{GroupID: small.ID, Query: "person 5"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := st.RecipientsFiltered(ctx, sc, c.f, 0, 50); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
