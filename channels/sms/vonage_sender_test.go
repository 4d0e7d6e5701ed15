package sms

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeVonage is an httptest server speaking the SMS API: it records the
// forms posted to /sms/json and answers with status and body.
type fakeVonage struct {
	*httptest.Server
	mu    sync.Mutex
	forms []url.Values
}

func newFakeVonage(t *testing.T, status int, contentType, body string) *fakeVonage {
	t.Helper()
	f := &fakeVonage{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/sms/json" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.forms = append(f.forms, r.PostForm)
		f.mu.Unlock()
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeVonage) lastForm(t *testing.T) url.Values {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.forms) == 0 {
		t.Fatal("no request reached the server")
	}
	return f.forms[len(f.forms)-1]
}

func newTestSender(t *testing.T, baseURL string, timeout time.Duration) *Sender {
	t.Helper()
	s, err := NewVonageSender(VonageConfig{APIKey: "abcd1234", APISecret: "secret", BaseURL: baseURL, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.CloseIdleConnections)
	return s
}

var testSend = SendRequest{From: "+15550100100", To: "+15550100200", Text: "Your table is ready.", ClientRef: "4711"}

const jsonType = "application/json"

func TestSendSuccess(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		wantIDs    []string
	}{
		{
			name: "single part",
			body: `{"message-count":"1","messages":[{"to":"15550100200","message-id":"0A0000000123ABCD1","status":"0",
				"remaining-balance":"3.14159265","message-price":"0.03330000","network":"12345"}]}`,
			wantIDs: []string{"0A0000000123ABCD1"},
		},
		{
			name: "two parts",
			body: `{"message-count":"2","messages":[
				{"to":"15550100200","message-id":"0A0000000123ABCD1","status":"0","remaining-balance":"3.1","message-price":"0.0333","network":"12345"},
				{"to":"15550100200","message-id":"0A0000000123ABCD2","status":"0","remaining-balance":"3.0","message-price":"0.0333","network":"12345"}]}`,
			wantIDs: []string{"0A0000000123ABCD1", "0A0000000123ABCD2"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVonage(t, http.StatusOK, jsonType, tc.body)
			res, err := newTestSender(t, f.URL, time.Second).Send(context.Background(), testSend)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if !slices.Equal(res.MessageIDs, tc.wantIDs) || res.Parts != len(tc.wantIDs) || res.Encoding != GSM7 {
				t.Errorf("Send = %+v, want ids %v", res, tc.wantIDs)
			}
		})
	}
}

func TestSendRequestFields(t *testing.T) {
	ok := `{"message-count":"1","messages":[{"to":"15550100200","message-id":"X1","status":"0"}]}`
	for _, tc := range []struct {
		name     string
		req      SendRequest
		wantType string
		wantFrom string
	}{
		{name: "gsm", req: testSend, wantType: "text", wantFrom: "15550100100"},
		{name: "ucs2", req: SendRequest{From: "Parley", To: "15550100200", Text: "Grüße aus Łódź ✓", ClientRef: "4711",
			StatusReportURL: "https://parley.example/webhooks/vonage/status"}, wantType: "unicode", wantFrom: "Parley"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVonage(t, http.StatusOK, jsonType, ok)
			res, err := newTestSender(t, f.URL, time.Second).Send(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if res.Encoding != Encoding(tc.wantType) {
				t.Errorf("Encoding = %q, want %q", res.Encoding, tc.wantType)
			}
			form := f.lastForm(t)
			want := url.Values{
				"api_key":           {"abcd1234"},
				"api_secret":        {"secret"},
				"from":              {tc.wantFrom},
				"to":                {"15550100200"},
				"text":              {tc.req.Text},
				"type":              {tc.wantType},
				"client-ref":        {"4711"},
				"status-report-req": {"true"}, // the SDK's rendering of the boolean
			}
			if tc.req.StatusReportURL != "" {
				want.Set("callback", tc.req.StatusReportURL)
			}
			for k := range form {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected field %s=%q", k, form[k])
				}
			}
			for k, v := range want {
				if !slices.Equal(form[k], v) {
					t.Errorf("field %s = %q, want %q", k, form[k], v)
				}
			}
		})
	}
}

func TestSendRejected(t *testing.T) {
	for _, tc := range []struct {
		name, body, wantText string
		wantStatus           string
		wantIDs              []string
	}{
		{
			name:       "invalid message",
			body:       `{"message-count":"1","messages":[{"status":"6","error-text":"The message was not sent because the number is not reachable"}]}`,
			wantStatus: "6", wantText: "The message was not sent because the number is not reachable",
		},
		{
			name:       "quota exceeded",
			body:       `{"message-count":"1","messages":[{"status":"9","error-text":"Quota Exceeded - rejected"}]}`,
			wantStatus: "9", wantText: "Quota Exceeded - rejected",
		},
		{
			name:       "status without text",
			body:       `{"message-count":"1","messages":[{"status":"29"}]}`,
			wantStatus: "29", wantText: "Non-whitelisted destination",
		},
		{
			// A retry would send part 1 again, so even throttling is final.
			name: "second part throttled",
			body: `{"message-count":"2","messages":[{"message-id":"P1","status":"0"},
				{"status":"1","error-text":"Throughput Rate Exceeded"}]}`,
			wantStatus: "1", wantText: "Throttled", wantIDs: []string{"P1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVonage(t, http.StatusOK, jsonType, tc.body)
			res, err := newTestSender(t, f.URL, time.Second).Send(context.Background(), testSend)
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("Send error = %v, want ErrRejected", err)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Status != tc.wantStatus || se.Text != tc.wantText {
				t.Fatalf("Send error = %#v, want status %s text %q", err, tc.wantStatus, tc.wantText)
			}
			if !strings.Contains(err.Error(), "status "+tc.wantStatus) || !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error text %q lacks the status or the reason", err)
			}
			if !slices.Equal(res.MessageIDs, tc.wantIDs) {
				t.Errorf("accepted ids = %v, want %v", res.MessageIDs, tc.wantIDs)
			}
		})
	}
}

func TestSendRetryable(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
	}{
		{name: "throttled", status: 200, contentType: jsonType,
			body: `{"message-count":"1","messages":[{"status":"1","error-text":"Throughput Rate Exceeded - please wait [ 1 ] and retry"}]}`},
		{name: "internal error status", status: 200, contentType: jsonType,
			body: `{"message-count":"1","messages":[{"status":"5","error-text":"Internal Error"}]}`},
		{name: "too many binds", status: 200, contentType: jsonType,
			body: `{"message-count":"1","messages":[{"status":"10","error-text":"Too many existing binds"}]}`},
		{name: "http 500", status: 500, contentType: jsonType, body: `{"error":"boom"}`},
		{name: "http 503 html", status: 503, contentType: "text/html", body: `<html>down</html>`},
		{name: "not json", status: 200, contentType: "text/html", body: `<html>hello</html>`},
		{name: "broken json", status: 200, contentType: jsonType, body: `{"message-count":"1","messages":[`},
		{name: "empty messages", status: 200, contentType: jsonType, body: `{"message-count":"0","messages":[]}`},
		{name: "no messages", status: 200, contentType: jsonType, body: `{}`},
		{name: "null", status: 200, contentType: jsonType, body: `null`},
		{name: "part without status", status: 200, contentType: jsonType, body: `{"messages":[{"message-id":"X"}]}`},
		{name: "redirect", status: 307, contentType: jsonType, body: ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVonage(t, tc.status, tc.contentType, tc.body)
			_, err := newTestSender(t, f.URL, time.Second).Send(context.Background(), testSend)
			if err == nil || errors.Is(err, ErrRejected) {
				t.Fatalf("Send error = %v, want a retryable error", err)
			}
		})
	}
}

func TestSendNetworkFailures(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		srv := hangingServer(t)
		start := time.Now()
		_, err := newTestSender(t, srv.URL, 100*time.Millisecond).Send(context.Background(), testSend)
		if err == nil || errors.Is(err, ErrRejected) {
			t.Fatalf("Send error = %v, want a retryable error", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Send took %s with a 100ms timeout", d)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		srv := hangingServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := newTestSender(t, srv.URL, 10*time.Second).Send(ctx, testSend)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrRejected) {
			t.Fatalf("Send error = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Send took %s after cancel", d)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		addr := srv.URL
		srv.Close()
		_, err := newTestSender(t, addr, time.Second).Send(context.Background(), testSend)
		if err == nil || errors.Is(err, ErrRejected) {
			t.Fatalf("Send error = %v, want a retryable error", err)
		}
	})
}

// hangingServer never answers; it returns when the client goes away.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSendInvalidRequest(t *testing.T) {
	f := newFakeVonage(t, http.StatusOK, jsonType, `{"messages":[{"status":"0","message-id":"X"}]}`)
	s := newTestSender(t, f.URL, time.Second)
	for name, mutate := range map[string]func(*SendRequest){
		"short to":          func(r *SendRequest) { r.To = "+12345" },
		"long to":           func(r *SendRequest) { r.To = "+1234567890123456" },
		"to with letters":   func(r *SendRequest) { r.To = "+1555CALLNOW" },
		"to leading zero":   func(r *SendRequest) { r.To = "07700900000" },
		"empty from":        func(r *SendRequest) { r.From = "" },
		"long alpha from":   func(r *SendRequest) { r.From = "ParleyChatHub" },
		"empty text":        func(r *SendRequest) { r.Text = " " },
		"too long text":     func(r *SendRequest) { r.Text = strings.Repeat("a", 1600) },
		"invalid utf-8":     func(r *SendRequest) { r.Text = "a\xffb" },
		"long client-ref":   func(r *SendRequest) { r.ClientRef = strings.Repeat("1", 41) },
		"bad callback":      func(r *SendRequest) { r.StatusReportURL = "ftp://x" },
		"control in sender": func(r *SendRequest) { r.From = "Par\nley" },
	} {
		r := testSend
		mutate(&r)
		if _, err := s.Send(context.Background(), r); !errors.Is(err, ErrRejected) {
			t.Errorf("%s: Send error = %v, want ErrRejected", name, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.forms) != 0 {
		t.Errorf("%d invalid requests reached Vonage", len(f.forms))
	}
}

func TestNewVonageSender(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  VonageConfig
		ok   bool
	}{
		{name: "defaults", cfg: VonageConfig{APIKey: "abcd1234", APISecret: "s"}, ok: true},
		{name: "simulator", cfg: VonageConfig{APIKey: "abcd1234", APISecret: "s", BaseURL: "http://127.0.0.1:8080/sim/", Timeout: time.Second}, ok: true},
		{name: "short key", cfg: VonageConfig{APIKey: "abcd123", APISecret: "s"}},
		{name: "long key", cfg: VonageConfig{APIKey: "abcd12345", APISecret: "s"}},
		{name: "no secret", cfg: VonageConfig{APIKey: "abcd1234"}},
		{name: "relative url", cfg: VonageConfig{APIKey: "abcd1234", APISecret: "s", BaseURL: "rest.nexmo.com"}},
		{name: "ftp url", cfg: VonageConfig{APIKey: "abcd1234", APISecret: "s", BaseURL: "ftp://rest.nexmo.com"}},
		{name: "url with query", cfg: VonageConfig{APIKey: "abcd1234", APISecret: "s", BaseURL: "https://rest.nexmo.com?x=1"}},
		{name: "negative timeout", cfg: VonageConfig{APIKey: "abcd1234", APISecret: "s", Timeout: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewVonageSender(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("NewVonageSender = %v, want ok %v", err, tc.ok)
			}
			if s != nil {
				s.CloseIdleConnections()
			}
		})
	}
	s, err := NewVonageSender(VonageConfig{APIKey: "abcd1234", APISecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if s.basePath != "https://rest.nexmo.com/sms" || s.timeout != DefaultVonageTimeout {
		t.Errorf("defaults: basePath %q timeout %s", s.basePath, s.timeout)
	}
}

func TestSendBasePathPrefix(t *testing.T) {
	paths := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		w.Header().Set("Content-Type", jsonType)
		_, _ = w.Write([]byte(`{"messages":[{"status":"0","message-id":"X"}]}`))
	}))
	defer srv.Close()
	if _, err := newTestSender(t, srv.URL+"/simulator/", time.Second).Send(context.Background(), testSend); err != nil {
		t.Fatal(err)
	}
	if path := <-paths; path != "/simulator/sms/json" {
		t.Errorf("posted to %q, want /simulator/sms/json", path)
	}
}
