package models

import (
	"errors"
	"strings"
	"testing"
)

func TestFillPlaceholders(t *testing.T) {
	for _, c := range []struct{ text, name, want string }{
		{"Hi {first_name}!", "Ana Maria Diaz", "Hi Ana!"},
		{"Dear {name}, {last_name} family", "Ana Maria  Diaz", "Dear Ana Maria Diaz, Diaz family"},
		{"Hi {first_name|there}", "", "Hi there"},
		{"Hi {first_name}", "", "Hi "},
		{"Hi {first_name|friend}", "Bo", "Hi Bo"},
		{"Price {5} {not_a_field}", "Bo", "Price {5} {not_a_field}"},
		{"No placeholders", "Bo", "No placeholders"},
		{"{last_name|family}", "Cher", "family"}, // one name is a first name
	} {
		if got := fillPlaceholders(c.text, c.name); got != c.want {
			t.Errorf("fill(%q, %q) = %q, want %q", c.text, c.name, got, c.want)
		}
	}
	if err := checkPlaceholders("Hi {frist_name}"); err == nil {
		t.Error("a misspelt placeholder was accepted")
	} else {
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "body" || !strings.Contains(fe.Message, "{frist_name}") {
			t.Errorf("error = %v", err)
		}
	}
	if err := checkPlaceholders("Hi {first_name|there}, see {name}"); err != nil {
		t.Errorf("valid placeholders refused: %v", err)
	}
}

func TestLongNameFallsBackInsteadOfOverflowing(t *testing.T) {
	body := strings.Repeat("a", 1500) + " {name|you}"
	s := newSMSShaper(body)
	text, seg := s.shape(strings.Repeat("Z", 200))
	if !strings.HasSuffix(text, " you") || seg.Segments > 10 {
		t.Fatalf("shape = %d segments, ends %q", seg.Segments, text[len(text)-10:])
	}
}
