package models_test

import (
	"context"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestMigrateUpResetUp runs every migration down to zero and up again, and
// checks that down removes exactly one step.
func TestMigrateUpResetUp(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	mg, err := models.NewMigrator(st.DB())
	if err != nil {
		t.Fatal(err)
	}
	status, err := mg.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(status) < 2 {
		t.Fatalf("want at least 2 migrations, got %d", len(status))
	}
	for _, s := range status {
		if !s.Applied {
			t.Fatalf("migration %s not applied by testenv", s.Name)
		}
	}
	last := status[len(status)-1].Name

	name, err := mg.Down(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if name != last {
		t.Fatalf("down reverted %q, want the last step %q", name, last)
	}
	status, _ = mg.Status(ctx)
	if status[len(status)-1].Applied || !status[len(status)-2].Applied {
		t.Fatalf("after down: %+v", status)
	}

	reverted, err := mg.Reset(ctx)
	if err != nil {
		t.Fatalf("reset: %v", err)
	}
	if len(reverted) != len(status)-1 {
		t.Fatalf("reset reverted %v", reverted)
	}
	var tables int
	if err := st.DB().NewRaw(`SELECT count(*) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_name NOT LIKE 'parley_migration%'`).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("after reset %d tables remain", tables)
	}
	if name, err := mg.Down(ctx); err != nil || name != "" {
		t.Fatalf("down at zero: %q, %v", name, err)
	}

	applied, err := mg.Up(ctx)
	if err != nil {
		t.Fatalf("up again: %v", err)
	}
	if len(applied) != len(status) {
		t.Fatalf("up applied %v, want %d", applied, len(status))
	}
	if again, err := mg.Up(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second up: %v, %v", again, err)
	}
}
