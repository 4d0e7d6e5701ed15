package sms

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// inboundForm is an inbound callback as Vonage sends it, form-encoded.
const inboundForm = "msisdn=447700900001&to=447700900000&messageId=0A0000001234ABCD&text=Hello+%26+welcome" +
	"&type=text&keyword=HELLO&api-key=abcd1234&message-timestamp=2026-11-24+09%3A15%3A00"

const inboundJSON = `{"msisdn":"447700900001","to":"447700900000","messageId":"0A0000001234ABCD",
	"text":"Hello & welcome","type":"text","keyword":"HELLO","api-key":"abcd1234",
	"message-timestamp":"2026-11-24 09:15:00"}`

var wantInbound = Inbound{
	MessageID: "0A0000001234ABCD",
	From:      "+447700900001",
	To:        "+447700900000",
	Text:      "Hello & welcome",
	Keyword:   "HELLO",
	Type:      "text",
	Timestamp: time.Date(2026, 11, 24, 9, 15, 0, 0, time.UTC),
}

func mustQuery(t *testing.T, q string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseInbound(t *testing.T) {
	concat := wantInbound
	concat.Concat = &ConcatPart{Ref: "1A", Part: 2, Total: 3}
	empty := wantInbound
	empty.Text, empty.Keyword = "", ""
	for _, tc := range []struct {
		name string
		req  Request
		want Inbound
	}{
		{name: "GET", req: Request{Method: "GET", Query: mustQuery(t, inboundForm)}, want: wantInbound},
		{name: "POST form", req: Request{Method: "POST", ContentType: "application/x-www-form-urlencoded; charset=UTF-8",
			Body: []byte(inboundForm)}, want: wantInbound},
		{name: "POST JSON", req: Request{Method: "POST", ContentType: "application/json", Body: []byte(inboundJSON)}, want: wantInbound},
		{name: "POST JSON without content type", req: Request{Method: "POST", Body: []byte(" " + inboundJSON)}, want: wantInbound},
		{name: "POST form without content type", req: Request{Method: "POST", Body: []byte(inboundForm)}, want: wantInbound},
		{name: "message-id spelling", req: Request{Method: "GET",
			Query: mustQuery(t, strings.Replace(inboundForm, "messageId=", "message-id=", 1))}, want: wantInbound},
		{name: "numbers with plus", req: Request{Method: "GET",
			Query: mustQuery(t, strings.NewReplacer("msisdn=", "msisdn=%2B", "to=", "to=%2B").Replace(inboundForm))}, want: wantInbound},
		{name: "concatenated part", req: Request{Method: "GET",
			Query: mustQuery(t, inboundForm+"&concat=true&concat-ref=1A&concat-part=2&concat-total=3")}, want: concat},
		{name: "JSON numbers and booleans", req: Request{Method: "POST", ContentType: "application/json",
			Body: []byte(strings.TrimSuffix(inboundJSON, "}") + `,"concat":true,"concat-ref":"1A","concat-part":2,"concat-total":3,"nonce":null}`)},
			want: concat},
		{name: "empty text", req: Request{Method: "GET",
			Query: mustQuery(t, "msisdn=447700900001&to=447700900000&messageId=0A0000001234ABCD&text=&type=text&message-timestamp=2026-11-24+09%3A15%3A00")},
			want: empty},
		{name: "RFC 3339 timestamp", req: Request{Method: "GET",
			Query: mustQuery(t, strings.Replace(inboundForm, "2026-11-24+09%3A15%3A00", "2026-11-24T10%3A15%3A00%2B01%3A00", 1))}, want: wantInbound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseInbound(tc.req)
			if err != nil {
				t.Fatalf("ParseInbound: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseInbound =\n%+v, want\n%+v", got, tc.want)
			}
		})
	}
}

func TestParseInboundSpecialCases(t *testing.T) {
	in, err := ParseInbound(Request{Method: "GET", Query: mustQuery(t,
		"msisdn=447700900001&to=447700900000&messageId=X1&type=binary&data=0102&udh=050003")})
	if err != nil || in.Type != "binary" || in.Text != "" {
		t.Errorf("binary message: %+v, %v", in, err)
	}
	in, err = ParseInbound(Request{Method: "POST", ContentType: "application/json", Body: []byte(
		`{"msisdn":"447700900001","to":"447700900000","messageId":"X1","type":"unicode","text":"a\u0000b ✓"}`)})
	if err != nil || in.Text != "a\uFFFDb ✓" || in.Type != "unicode" {
		t.Errorf("NUL in text: %+v, %v", in, err)
	}
	if in.Concat != nil || !in.Timestamp.IsZero() {
		t.Errorf("unexpected concat or timestamp: %+v", in)
	}
}

func TestParseInboundMalformed(t *testing.T) {
	get := func(q string) Request { return Request{Method: "GET", Query: mustQuery(t, q)} }
	without := func(name string) Request {
		q := mustQuery(t, inboundForm)
		q.Del(name)
		return Request{Method: "GET", Query: q}
	}
	with := func(name, value string) Request {
		q := mustQuery(t, inboundForm)
		q.Set(name, value)
		return Request{Method: "GET", Query: q}
	}
	jsonBody := func(body string) Request {
		return Request{Method: "POST", ContentType: "application/json", Body: []byte(body)}
	}
	for name, req := range map[string]Request{
		"no msisdn":             without("msisdn"),
		"no to":                 without("to"),
		"no messageId":          without("messageId"),
		"no type":               without("type"),
		"no text":               without("text"),
		"short msisdn":          with("msisdn", "123456"),
		"long msisdn":           with("msisdn", "1234567890123456"),
		"msisdn with letters":   with("msisdn", "44770090000A"),
		"msisdn leading zero":   with("msisdn", "07700900001"),
		"msisdn two plus":       with("msisdn", "++447700900001"),
		"messageId with space":  with("messageId", "0A00 1234"),
		"long messageId":        with("messageId", strings.Repeat("A", 101)),
		"bad type":              with("type", "text plain"),
		"bad timestamp":         with("message-timestamp", "24/11/2026 09:15"),
		"keyword with newline":  with("keyword", "HI\nTHERE"),
		"huge text":             with("text", strings.Repeat("a", maxTextBytes+1)),
		"invalid UTF-8 text":    with("text", "a\xffb"),
		"ids disagree":          with("message-id", "OTHER"),
		"concat without ref":    get(inboundForm + "&concat=true&concat-part=1&concat-total=2"),
		"concat part zero":      get(inboundForm + "&concat=true&concat-ref=1&concat-part=0&concat-total=2"),
		"concat part past end":  get(inboundForm + "&concat=true&concat-ref=1&concat-part=3&concat-total=2"),
		"concat total 256":      get(inboundForm + "&concat=true&concat-ref=1&concat-part=1&concat-total=256"),
		"concat signed number":  get(inboundForm + "&concat=true&concat-ref=1&concat-part=%2B1&concat-total=2"),
		"concat not a boolean":  get(inboundForm + "&concat=yes&concat-ref=1&concat-part=1&concat-total=2"),
		"repeated field":        get(inboundForm + "&text=again"),
		"query and body repeat": {Method: "POST", ContentType: "application/x-www-form-urlencoded", Query: mustQuery(t, "text=x"), Body: []byte(inboundForm)},
		"bad form escape":       {Method: "POST", ContentType: "application/x-www-form-urlencoded", Body: []byte(inboundForm + "&x=%zz")},
		"semicolon in form":     {Method: "POST", ContentType: "application/x-www-form-urlencoded", Body: []byte(inboundForm + ";x=1")},
		"empty name":            {Method: "POST", ContentType: "application/x-www-form-urlencoded", Body: []byte(inboundForm + "&=1")},
		"unsupported type":      {Method: "POST", ContentType: "text/plain", Body: []byte(inboundForm)},
		"bad content type":      {Method: "POST", ContentType: "application/json; charset", Body: []byte(inboundJSON)},
		"PUT":                   {Method: "PUT", Query: mustQuery(t, inboundForm)},
		"huge body":             {Method: "POST", ContentType: "application/x-www-form-urlencoded", Body: []byte(inboundForm + "&pad=" + strings.Repeat("a", MaxWebhookBody))},
		"too many params":       get(inboundForm + manyParams(maxParams)),
		"JSON array":            jsonBody(`[` + inboundJSON + `]`),
		"JSON nested":           jsonBody(strings.TrimSuffix(inboundJSON, "}") + `,"extra":{"a":"b"}}`),
		"JSON list value":       jsonBody(strings.TrimSuffix(inboundJSON, "}") + `,"extra":["a"]}`),
		"JSON duplicate key":    jsonBody(strings.TrimSuffix(inboundJSON, "}") + `,"text":"again"}`),
		"JSON trailing data":    jsonBody(inboundJSON + `{}`),
		"JSON truncated":        jsonBody(inboundJSON[:40]),
		"JSON empty":            jsonBody(``),
		"JSON invalid UTF-8":    jsonBody(strings.Replace(inboundJSON, "welcome", "w\xffelcome", 1)),
		"JSON number msisdn":    jsonBody(strings.Replace(inboundJSON, `"447700900001"`, `4.477e11`, 1)),
	} {
		t.Run(name, func(t *testing.T) {
			if in, err := ParseInbound(req); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseInbound = %+v, %v; want ErrMalformed", in, err)
			}
		})
	}
}

// manyParams returns n extra "&p<i>=v" pairs with distinct names.
func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "&p%d=v", i)
	}
	return b.String()
}

func TestParams(t *testing.T) {
	got, err := Request{Method: "POST", ContentType: "application/json", Query: url.Values{"q": {"1"}},
		Body: []byte(`{"s":"x","n":1.50,"big":12345678901234567890,"t":true,"f":false,"z":null}`)}.Params()
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"q": {"1"}, "s": {"x"}, "n": {"1.50"}, "big": {"12345678901234567890"}, "t": {"true"}, "f": {"false"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Params = %v, want %v", got, want)
	}
	got, err = Request{Method: "GET", Query: url.Values{"a": {"1"}}, Body: []byte("not read")}.Params()
	if err != nil || !reflect.DeepEqual(got, url.Values{"a": {"1"}}) {
		t.Errorf("GET Params = %v, %v", got, err)
	}
}

func TestParseReceipt(t *testing.T) {
	const receipt = "msisdn=15550100200&to=Parley&network-code=310090&messageId=0A0000000123ABCD1&price=0.03330000" +
		"&status=delivered&scts=2611240915&err-code=0&client-ref=4711&api-key=abcd1234&message-timestamp=2026-11-24+09%3A15%3A30"
	want := Receipt{
		MessageID: "0A0000000123ABCD1", ClientRef: "4711", To: "+15550100200", Status: ReceiptDelivered,
		Price: "0.03330000", Timestamp: time.Date(2026, 11, 24, 9, 15, 30, 0, time.UTC),
	}
	jsonReceipt := `{"msisdn":"15550100200","to":"Parley","network-code":"310090","messageId":"0A0000000123ABCD1",
		"price":"0.03330000","status":"delivered","scts":"2611240915","err-code":"0","client-ref":"4711",
		"api-key":"abcd1234","message-timestamp":"2026-11-24 09:15:30"}`
	for name, req := range map[string]Request{
		"GET":  {Method: "GET", Query: mustQuery(t, receipt)},
		"form": {Method: "POST", ContentType: "application/x-www-form-urlencoded", Body: []byte(receipt)},
		"JSON": {Method: "POST", ContentType: "application/json", Body: []byte(jsonReceipt)},
	} {
		got, err := ParseReceipt(req)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ParseReceipt = %+v, %v; want %+v", name, got, err, want)
		}
	}

	minimal, err := ParseReceipt(Request{Method: "GET", Query: mustQuery(t,
		"message-id=X1&status=FAILED&err-code=9&scts=2611240915")})
	wantMin := Receipt{MessageID: "X1", Status: ReceiptFailed, ErrCode: 9, Timestamp: time.Date(2026, 11, 24, 9, 15, 0, 0, time.UTC)}
	if err != nil || !reflect.DeepEqual(minimal, wantMin) {
		t.Errorf("minimal receipt = %+v, %v; want %+v", minimal, err, wantMin)
	}
	odd, err := ParseReceipt(Request{Method: "GET", Query: mustQuery(t, "messageId=X1&status=queued&scts=garbage")})
	if err != nil || odd.Status != ReceiptUnknown || !odd.Timestamp.IsZero() {
		t.Errorf("unknown status, odd scts = %+v, %v", odd, err)
	}

	for name, q := range map[string]string{
		"no messageId":   "status=delivered",
		"no status":      "messageId=X1",
		"bad status":     "messageId=X1&status=de+livered",
		"bad err-code":   "messageId=X1&status=failed&err-code=x",
		"negative code":  "messageId=X1&status=failed&err-code=-1",
		"bad msisdn":     "messageId=X1&status=failed&msisdn=abc",
		"bad price":      "messageId=X1&status=failed&price=1.2.3",
		"price NaN":      "messageId=X1&status=failed&price=NaN",
		"bad timestamp":  "messageId=X1&status=failed&message-timestamp=yesterday",
		"control in ref": "messageId=X1&status=failed&client-ref=a%00b",
	} {
		if rc, err := ParseReceipt(Request{Method: "GET", Query: mustQuery(t, q)}); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseReceipt = %+v, %v; want ErrMalformed", name, rc, err)
		}
	}
}

// TestSignedWebhook runs the path the webhook handler takes: merge the
// params, verify them, parse them.
func TestSignedWebhook(t *testing.T) {
	p := mustQuery(t, inboundForm)
	p.Set("timestamp", "1795511700")
	p.Set("sig", Sign(p, testSecret, SignatureSHA256))
	req := Request{Method: "POST", ContentType: "application/x-www-form-urlencoded", Body: []byte(p.Encode())}
	params, err := req.Params()
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(params, testSecret, SignatureSHA256); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	in, err := ParseInboundParams(params)
	if err != nil || in.MessageID != wantInbound.MessageID {
		t.Fatalf("ParseInboundParams = %+v, %v", in, err)
	}
	// The same request with one extra query parameter no longer verifies.
	req.Query = url.Values{"text": {"injected"}}
	if params, err := req.Params(); err == nil {
		t.Fatalf("repeated text accepted: %v", params)
	}
	req.Query = url.Values{"x": {"1"}}
	params, err = req.Params()
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(params, testSecret, SignatureSHA256); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Verify with an added query parameter = %v", err)
	}
}
