package models_test

import (
	"context"
	"os"
	"testing"

	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/models"
)

var env testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, "models", &env)) }

// openStore connects to the package's database.
func openStore(t testing.TB) *models.Store {
	t.Helper()
	db, err := models.OpenDB(context.Background(), env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return models.NewStore(db)
}

func demoOptions() models.DemoOptions {
	return models.DemoOptions{
		AdminEmail: "admin@demo.parley.test", AdminPassword: "correct horse battery",
		AgentEmail: "agent@demo.parley.test", AgentPassword: "agent password 1",
		SMSNumber: "+15550100100", EmailAddress: "demo@inbound.parley.test",
	}
}
