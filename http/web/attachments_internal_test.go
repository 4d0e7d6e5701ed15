package web

import "testing"

// TestSafeContentType: what a browser would render actively (markup,
// script, style, multipart streams) or is no type at all is served as
// application/octet-stream; other types as the sender gave them, without
// parameters.
func TestSafeContentType(t *testing.T) {
	for in, want := range map[string]string{
		"image/jpeg":                     "image/jpeg",
		"IMAGE/PNG":                      "image/png",
		"application/pdf":                "application/pdf",
		"text/plain; charset=utf-7":      "text/plain",
		"text/csv":                       "text/csv",
		"text/html":                      "application/octet-stream",
		"text/HTML; charset=utf-8":       "application/octet-stream",
		"application/xhtml+xml":          "application/octet-stream",
		"image/svg+xml":                  "application/octet-stream",
		"text/xml":                       "application/octet-stream",
		"application/xml":                "application/octet-stream",
		"text/javascript":                "application/octet-stream",
		"application/x-javascript":       "application/octet-stream",
		"application/ecmascript":         "application/octet-stream",
		"text/css":                       "application/octet-stream",
		"text/xsl":                       "application/octet-stream",
		"multipart/x-mixed-replace":      "application/octet-stream",
		"message/rfc822":                 "application/octet-stream",
		"application/x-shockwave-flash":  "application/octet-stream",
		"":                               "application/octet-stream",
		"nonsense":                       "application/octet-stream",
		"text/plain\r\nX-Injected: yes":  "application/octet-stream",
		"application/vnd.ms-excel":       "application/vnd.ms-excel",
		"application/octet-stream; x=\"": "application/octet-stream",
	} {
		if got := safeContentType(in); got != want {
			t.Errorf("safeContentType(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestContentDisposition: an ASCII fallback and the UTF-8 name as RFC
// 5987 encodes it; no path, quote, control character or line break of
// the sender's reaches the header.
func TestContentDisposition(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"report.pdf", `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`},
		{"rapport été.pdf", `attachment; filename="rapport _t_.pdf"; filename*=UTF-8''rapport%20%C3%A9t%C3%A9.pdf`},
		{`../../etc/passwd`, `attachment; filename="passwd"; filename*=UTF-8''passwd`},
		{`C:\Users\x\a "b".txt`, `attachment; filename="a _b_.txt"; filename*=UTF-8''a%20%22b%22.txt`},
		{"a\r\nSet-Cookie: x=1.txt", `attachment; filename="a__Set-Cookie: x=1.txt"; filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3D1.txt`},
		{"100%.txt", `attachment; filename="100_.txt"; filename*=UTF-8''100%25.txt`},
		{"", `attachment; filename="attachment"; filename*=UTF-8''attachment`},
		{"..", `attachment; filename="attachment"; filename*=UTF-8''attachment`},
	} {
		if got := contentDisposition("attachment", c.in); got != c.want {
			t.Errorf("contentDisposition(%q)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}
