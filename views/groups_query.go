package views

import (
	"net/url"
	"strconv"
	"strings"
)

// queryValues is an ordered query string (url.Values sorts its keys).
type queryValues [][2]string

func (v *queryValues) add(k, val string) { *v = append(*v, [2]string{k, val}) }

func (v queryValues) encode() string {
	parts := make([]string, len(v))
	for i, kv := range v {
		parts[i] = url.QueryEscape(kv[0]) + "=" + url.QueryEscape(kv[1])
	}
	return strings.Join(parts, "&")
}

// sep is what joins another parameter to a URL whose query is q.
func sep(q string) string {
	if q == "" {
		return "?"
	}
	return "&"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
