package models

import (
	"regexp"
	"strings"
)

// A broadcast's text may name its recipient: {first_name}, {last_name} or
// {name}, each with an optional fallback for a recipient without one,
// {first_name|there}. Anything else in braces is left as written.

// placeholderRE matches a placeholder with its optional fallback.
var placeholderRE = regexp.MustCompile(`\{(first_name|last_name|name)(?:\|([^{}]{0,40}))?\}`)

// unknownPlaceholderRE matches what looks like a placeholder but is not one.
var unknownPlaceholderRE = regexp.MustCompile(`\{[a-z_]{2,30}(\|[^{}]*)?\}`)

// checkPlaceholders refuses a text naming a placeholder that does not
// exist ({frist_name}): it would go out as written.
func checkPlaceholders(text string) error {
	for _, m := range unknownPlaceholderRE.FindAllString(text, -1) {
		if !placeholderRE.MatchString(m) {
			return fieldErr("body", "%s is not a placeholder; use {first_name}, {last_name} or {name} (with a fallback: {first_name|there}).", m)
		}
	}
	return nil
}

// fillPlaceholders renders text for a recipient named name.
func fillPlaceholders(text, name string) string {
	if !strings.Contains(text, "{") {
		return text
	}
	name = strings.Join(strings.Fields(name), " ")
	first, last, _ := strings.Cut(name, " ")
	if i := strings.LastIndexByte(name, ' '); i >= 0 {
		last = name[i+1:]
	}
	return placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		sub := placeholderRE.FindStringSubmatch(m)
		v := map[string]string{"first_name": first, "last_name": last, "name": name}[sub[1]]
		if v == "" {
			return sub[2]
		}
		return v
	})
}

// hasPlaceholders reports whether text names its recipient.
func hasPlaceholders(text string) bool { return placeholderRE.MatchString(text) }
