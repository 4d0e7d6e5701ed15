package models_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley/models"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// FuzzParseImport: any upload either is refused as a file (a FieldError on
// "file") or reads into rows whose check never panics, and every person
// it finds has what the recipients table accepts: a phone in E.164 or a
// lower-case email, a name of at most 200 characters, valid UTF-8.
func FuzzParseImport(f *testing.F) {
	f.Add([]byte("name,phone,email\nAda,(555) 010-2001,ada@example.com\n"))
	f.Add([]byte("\xef\xbb\xbfFirst;Last;Mobile\nA;B;+44 20 7946 0018\n"))
	f.Add([]byte("phone\n\"unclosed,1\n2\n"))
	f.Add([]byte("email,sms_opt_out\nx@y.z,yes\nbad,maybe\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := models.ParseImportFile(data)
		if err != nil {
			var fe *models.FieldError
			if !asFieldErr(err, &fe) || fe.Field != "file" {
				t.Fatalf("not a file error: %v", err)
			}
			return
		}
		mapping := models.AutoMapping(file.Header)
		if _, err := models.CheckMapping(mapping, len(file.Header)); err != nil {
			// No phone or email column found: map the first column as phone.
			mapping[0] = models.ImportPhone
			for i := 1; i < len(mapping); i++ {
				if mapping[i] == models.ImportPhone {
					mapping[i] = ""
				}
			}
		}
		chk := models.CheckImportFile(file, mapping, "US")
		if chk.Failed+sum(chk.Rows) != len(file.Rows) {
			t.Fatalf("%d failed + %d merged into people != %d rows", chk.Failed, sum(chk.Rows), len(file.Rows))
		}
		for _, p := range chk.People {
			if p.Phone == "" && p.Email == "" {
				t.Fatalf("person without an address: %+v", p)
			}
			if p.Phone != "" && !e164.MatchString(p.Phone) {
				t.Fatalf("phone %q not E.164", p.Phone)
			}
			if p.Email != "" && (p.Email != strings.ToLower(p.Email) || !strings.Contains(p.Email, "@")) {
				t.Fatalf("email %q", p.Email)
			}
			if !utf8.ValidString(p.Name) || utf8.RuneCountInString(p.Name) > 200 || strings.ContainsRune(p.Name+p.Email, 0) {
				t.Fatalf("name %q", p.Name)
			}
		}
	})
}

func sum(ns []int) int {
	t := 0
	for _, n := range ns {
		t += n
	}
	return t
}

func asFieldErr(err error, fe **models.FieldError) bool {
	e, ok := err.(*models.FieldError)
	*fe = e
	return ok
}
