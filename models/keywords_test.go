package models_test

import (
	"testing"

	"github.com/parley-chat/parley/models"
)

func TestHelpReply(t *testing.T) {
	for _, tc := range []struct{ name, help, want string }{
		{"period and STOP (the demo inbox)", "Demo front desk. Reply STOP to opt out.",
			"Demo front desk. Reply STOP to opt out."},
		{"no period, no STOP", "Acme support, 9-5 weekdays",
			"Acme support, 9-5 weekdays. Reply STOP to unsubscribe."},
		{"period, no STOP", "Acme support, 9-5 weekdays.",
			"Acme support, 9-5 weekdays. Reply STOP to unsubscribe."},
		{"STOP without a period", "Acme support. Text STOP to opt out",
			"Acme support. Text STOP to opt out."},
		{"another opt-out keyword", "Acme support. Reply QUIT to leave.",
			"Acme support. Reply QUIT to leave."},
		{"exclamation mark", "Thanks for texting Acme!",
			"Thanks for texting Acme! Reply STOP to unsubscribe."},
		{"lower-case stop is no instruction", "Acme, by the bus stop",
			"Acme, by the bus stop. Reply STOP to unsubscribe."},
		{"trailing space", "Acme support.  ",
			"Acme support. Reply STOP to unsubscribe."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := models.HelpReply(tc.help); got != tc.want {
				t.Fatalf("HelpReply(%q) = %q, want %q", tc.help, got, tc.want)
			}
		})
	}
}
