package models

import (
	"context"
	"fmt"

	"github.com/parley-chat/parley/models/migrations"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// Migrator applies and reverts the embedded schema migrations. Each
// migration is applied as its own group, so Down reverts exactly one step.
type Migrator struct {
	m *migrate.Migrator
}

// MigrationStatus is one migration and whether it has been applied.
type MigrationStatus struct {
	Name    string
	Applied bool
}

// NewMigrator loads the embedded migrations.
func NewMigrator(db *bun.DB) (*Migrator, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(migrations.FS); err != nil {
		return nil, fmt.Errorf("models: discover migrations: %w", err)
	}
	m := migrate.NewMigrator(db, ms,
		migrate.WithTableName("parley_migrations"),
		migrate.WithLocksTableName("parley_migration_locks"),
		migrate.WithMarkAppliedOnSuccess(true),
		migrate.WithUpsert(true))
	return &Migrator{m: m}, nil
}

// withLock initialises the bookkeeping tables and holds the migration lock,
// so two processes started together do not migrate at once.
func (mg *Migrator) withLock(ctx context.Context, fn func() error) error {
	if err := mg.m.Init(ctx); err != nil {
		return fmt.Errorf("models: init migrations: %w", err)
	}
	if err := mg.m.Lock(ctx); err != nil {
		return fmt.Errorf("models: lock migrations (another migration running?): %w", err)
	}
	defer mg.m.Unlock(context.WithoutCancel(ctx)) //nolint:errcheck // the lock row is removed on success; a leftover is reported on the next Lock
	return fn()
}

// Up applies every pending migration, one group each, and returns their names.
func (mg *Migrator) Up(ctx context.Context) ([]string, error) {
	var applied []string
	err := mg.withLock(ctx, func() error {
		all, err := mg.m.MigrationsWithStatus(ctx)
		if err != nil {
			return fmt.Errorf("models: list pending migrations: %w", err)
		}
		for _, mig := range all.Unapplied() {
			if err := mg.m.RunMigration(ctx, mig.Name); err != nil {
				return fmt.Errorf("models: migrate up %s: %w", mig.Name, err)
			}
			applied = append(applied, mig.Name+"_"+mig.Comment)
		}
		return nil
	})
	return applied, err
}

// Down reverts the last applied migration; it returns "" when none is applied.
func (mg *Migrator) Down(ctx context.Context) (string, error) {
	var name string
	err := mg.withLock(ctx, func() error {
		group, err := mg.m.Rollback(ctx)
		if err != nil {
			return fmt.Errorf("models: migrate down: %w", err)
		}
		for _, mig := range group.Migrations {
			name = mig.Name + "_" + mig.Comment
		}
		return nil
	})
	return name, err
}

// Reset reverts every applied migration, newest first, and returns their names.
func (mg *Migrator) Reset(ctx context.Context) ([]string, error) {
	var reverted []string
	for {
		name, err := mg.Down(ctx)
		if err != nil {
			return reverted, err
		}
		if name == "" {
			return reverted, nil
		}
		reverted = append(reverted, name)
	}
}

// Status lists every known migration in order with its state.
func (mg *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	if err := mg.m.Init(ctx); err != nil {
		return nil, fmt.Errorf("models: init migrations: %w", err)
	}
	all, err := mg.m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(all))
	for _, m := range all {
		out = append(out, MigrationStatus{Name: m.Name + "_" + m.Comment, Applied: m.IsApplied()})
	}
	return out, nil
}
