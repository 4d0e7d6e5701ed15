package email

import (
	"net/textproto"
	"testing"
)

func TestAutomated(t *testing.T) {
	for _, tc := range []struct {
		name    string
		header  map[string]string
		want    bool
		because string
	}{
		{"person", map[string]string{"From": "Maria <maria@mail.example>", "Return-Path": "<maria@mail.example>"}, false, ""},
		{"Auto-Submitted: no", map[string]string{"Auto-Submitted": "no"}, false, ""},
		{"Auto-Submitted: No (comment)", map[string]string{"Auto-Submitted": "No (a person wrote this)"}, false, ""},
		{"Precedence: first-class", map[string]string{"Precedence": "first-class"}, false, ""},
		{"mailer in the name only", map[string]string{"From": "\"mailer-daemon fan\" <fan@mail.example>"}, false, ""},
		{"postmaster elsewhere in the local part", map[string]string{"From": "postmaster.jones@mail.example"}, false, ""},
		{"auto-replied", map[string]string{"Auto-Submitted": "auto-replied"}, true, "Auto-Submitted: auto-replied"},
		{"auto-generated with params", map[string]string{"Auto-Submitted": "Auto-Generated; owner-email=x@y"}, true, "Auto-Submitted: auto-generated"},
		{"auto-notified", map[string]string{"Auto-Submitted": "auto-notified"}, true, "Auto-Submitted: auto-notified"},
		{"bulk", map[string]string{"Precedence": "bulk"}, true, "Precedence: bulk"},
		{"junk", map[string]string{"Precedence": "Junk"}, true, "Precedence: junk"},
		{"list", map[string]string{"Precedence": "list"}, true, "Precedence: list"},
		{"auto_reply", map[string]string{"Precedence": "auto_reply"}, true, "Precedence: auto_reply"},
		{"X-Auto-Response-Suppress", map[string]string{"X-Auto-Response-Suppress": "All"}, true, "X-Auto-Response-Suppress"},
		{"List-Id", map[string]string{"List-Id": "<news.shop.example>"}, true, "List-Id"},
		{"List-Unsubscribe", map[string]string{"List-Unsubscribe": "<mailto:u@shop.example>"}, true, "List-Unsubscribe"},
		{"null Return-Path", map[string]string{"Return-Path": "<>"}, true, "null Return-Path"},
		{"null Return-Path with space", map[string]string{"Return-Path": "< >"}, true, "null Return-Path"},
		{"MAILER-DAEMON", map[string]string{"From": "Mail Delivery System <MAILER-DAEMON@mx.mail.example>"}, true, "From: mailer-daemon"},
		{"postmaster", map[string]string{"From": "postmaster@mail.example"}, true, "From: postmaster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := textproto.MIMEHeader{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			got, because := Automated(h)
			if got != tc.want || because != tc.because {
				t.Errorf("Automated = %v, %q; want %v, %q", got, because, tc.want, tc.because)
			}
		})
	}
}
