package sms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrMalformed means a webhook request is not a well-formed Vonage SMS-API
// callback: bad JSON or form encoding, a repeated or missing field, a bad
// number, timestamp or phone number, invalid UTF-8, or sizes no real
// callback has. The webhook answers 400. Errors wrap it with the detail.
var ErrMalformed = errors.New("sms: malformed webhook")

// Size caps on webhook input. A real inbound callback is about a dozen
// short fields and a text of one SMS part (at most 160 characters, under
// 700 bytes of UTF-8 even when every character is 3 bytes and the form
// encoding triples it); the caps leave room for texts reassembled by the
// provider while keeping a flood of junk cheap to refuse.
const (
	// MaxWebhookBody is the largest body (and the most key and value
	// bytes in all) a webhook accepts. The HTTP layer should refuse larger
	// bodies before reading them.
	MaxWebhookBody = 64 << 10
	// maxParams is the most parameters one callback may carry; Vonage
	// sends at most about 16.
	maxParams = 64
	// maxKeyLen caps a parameter name.
	maxKeyLen = 64
	// maxTextBytes caps the text of an inbound message: 16 KiB is ten
	// 160-character parts of 3-byte characters several times over.
	maxTextBytes = 16 << 10
	// maxFieldLen caps every other field value.
	maxFieldLen = 1 << 10
)

// Request is a transport-neutral view of a webhook call, so that the HTTP
// layer (Fiber) can build it without this package knowing Fiber. Copy the
// values out of the framework's request: they must outlive it.
type Request struct {
	// Method is "GET" or "POST".
	Method string
	// ContentType is the Content-Type header of a POST:
	// application/x-www-form-urlencoded or application/json.
	ContentType string
	// Query is the URL's query parameters.
	Query url.Values
	// Body is the raw request body (ignored for GET).
	Body []byte
}

// Params merges r's query parameters with its body (form or JSON, for a
// POST) into one value per name. Signature checks and the parsers both
// read these. A name given twice, in one place or across query and body, is
// malformed: a signature could not say which value it covers. JSON values
// must be strings, numbers, booleans or null (null is treated as absent);
// numbers keep their literal text and booleans become "true" or "false".
// Nested objects and arrays are malformed. Every name and value must be
// valid UTF-8.
func (r Request) Params() (url.Values, error) {
	p := paramSet{values: make(url.Values)}
	for k, vs := range r.Query {
		for _, v := range vs {
			if err := p.add(k, v); err != nil {
				return nil, err
			}
		}
	}
	switch strings.ToUpper(r.Method) {
	case "GET":
		return p.values, nil
	case "POST":
	default:
		return nil, fmt.Errorf("%w: method %.10q", ErrMalformed, r.Method)
	}
	if len(r.Body) > MaxWebhookBody {
		return nil, fmt.Errorf("%w: body of %d bytes exceeds %d", ErrMalformed, len(r.Body), MaxWebhookBody)
	}
	isJSON, err := bodyIsJSON(r.ContentType, r.Body)
	if err != nil {
		return nil, err
	}
	if isJSON {
		err = p.addJSON(r.Body)
	} else {
		err = p.addForm(r.Body)
	}
	if err != nil {
		return nil, err
	}
	return p.values, nil
}

// bodyIsJSON tells a JSON body from a form by the content type, or by the
// first byte when there is none.
func bodyIsJSON(contentType string, body []byte) (bool, error) {
	if strings.TrimSpace(contentType) == "" {
		return bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")), nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false, fmt.Errorf("%w: content type: %w", ErrMalformed, err)
	}
	switch {
	case mt == "application/x-www-form-urlencoded":
		return false, nil
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return true, nil
	}
	return false, fmt.Errorf("%w: unsupported content type %.40q", ErrMalformed, mt)
}

// paramSet collects parameters, enforcing the caps and single values.
type paramSet struct {
	values url.Values
	bytes  int
}

// add records one parameter.
func (p *paramSet) add(k, v string) error {
	switch {
	case k == "":
		return fmt.Errorf("%w: empty parameter name", ErrMalformed)
	case len(k) > maxKeyLen:
		return fmt.Errorf("%w: parameter name of %d bytes", ErrMalformed, len(k))
	case !utf8.ValidString(k) || !utf8.ValidString(v):
		return fmt.Errorf("%w: parameter %q is not valid UTF-8", ErrMalformed, k)
	case len(v) > maxTextBytes:
		return fmt.Errorf("%w: parameter %q is %d bytes", ErrMalformed, k, len(v))
	case len(p.values) >= maxParams:
		return fmt.Errorf("%w: more than %d parameters", ErrMalformed, maxParams)
	}
	if _, dup := p.values[k]; dup {
		return fmt.Errorf("%w: parameter %q given twice", ErrMalformed, k)
	}
	p.bytes += len(k) + len(v)
	if p.bytes > MaxWebhookBody {
		return fmt.Errorf("%w: parameters exceed %d bytes", ErrMalformed, MaxWebhookBody)
	}
	p.values[k] = []string{v}
	return nil
}

// addForm records an application/x-www-form-urlencoded body.
func (p *paramSet) addForm(body []byte) error {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return fmt.Errorf("%w: form body: %w", ErrMalformed, err)
	}
	for k, vs := range form {
		for _, v := range vs {
			if err := p.add(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// addJSON records a flat JSON object body.
func (p *paramSet) addJSON(body []byte) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: JSON body is not valid UTF-8", ErrMalformed)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("%w: JSON body is not an object", ErrMalformed)
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: JSON body: %w", ErrMalformed, err)
		}
		k, _ := kt.(string) // object keys are always strings
		vt, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: JSON body: %w", ErrMalformed, err)
		}
		var v string
		switch t := vt.(type) {
		case string:
			v = t
		case json.Number:
			v = t.String()
		case bool:
			v = strconv.FormatBool(t)
		case nil:
			continue
		default:
			return fmt.Errorf("%w: JSON field %.64q is not a string, number or boolean", ErrMalformed, k)
		}
		if err := p.add(k, v); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return fmt.Errorf("%w: JSON body: %w", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	return nil
}
