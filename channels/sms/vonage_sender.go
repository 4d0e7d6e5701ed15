package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vonage/vonage-go-sdk"
)

// DefaultVonageBaseURL is Vonage's REST host; the SMS API lives under it at
// /sms/json.
const DefaultVonageBaseURL = "https://rest.nexmo.com"

// DefaultVonageTimeout bounds one send when VonageConfig.Timeout is zero.
// Vonage answers a send in well under a second; ten seconds rides out a slow
// network without holding a worker slot for long, and a timed-out send is
// retried with backoff.
const DefaultVonageTimeout = 10 * time.Second

// VonageConfig is what the outbound sender needs to reach Vonage's SMS API.
type VonageConfig struct {
	// APIKey is the account's API key. Vonage keys are 8 characters and
	// vonage-go-sdk v0.14.0 refuses any other length on every send, so
	// NewVonageSender checks it up front.
	APIKey string
	// APISecret is the account's API secret (not the signature secret).
	APISecret string
	// BaseURL is the scheme and host (and optional path prefix) of the SMS
	// API: DefaultVonageBaseURL when empty, or the local simulator. Sends
	// POST a form to {BaseURL}/sms/json, the same path as at Vonage.
	BaseURL string
	// Timeout bounds one send, connection and response body included;
	// DefaultVonageTimeout when zero.
	Timeout time.Duration
}

// Sender sends SMS through Vonage's SMS API with vonage-go-sdk. It is safe
// for concurrent use; connections are pooled across sends.
type Sender struct {
	apiKey, apiSecret string
	basePath          string // the SDK's BasePath: {BaseURL}/sms
	timeout           time.Duration
	transport         *http.Transport
}

// NewVonageSender checks cfg and returns a Sender. The checks are the ones
// that would otherwise fail every send: the key must be 8 characters, the
// secret set, the base URL an absolute http(s) URL, the timeout not negative.
func NewVonageSender(cfg VonageConfig) (*Sender, error) {
	if n := utf8.RuneCountInString(cfg.APIKey); n != 8 {
		return nil, fmt.Errorf("sms: vonage api key must be 8 characters, got %d", n)
	}
	if cfg.APISecret == "" {
		return nil, errors.New("sms: vonage api secret is empty")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("sms: vonage timeout %s is negative", cfg.Timeout)
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultVonageBaseURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("sms: vonage base url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("sms: vonage base url %q is not an http(s)://host URL", base)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultVonageTimeout
	}
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("sms: http.DefaultTransport is not an *http.Transport")
	}
	tr := t.Clone()
	// Every worker talks to the one Vonage host: keep as many idle
	// connections as sends run at once, not the default 2, or a burst
	// opens a new TLS connection for most sends.
	tr.MaxIdleConnsPerHost = maxIdlePerHost
	return &Sender{
		apiKey:    cfg.APIKey,
		apiSecret: cfg.APISecret,
		basePath:  strings.TrimRight(base, "/") + "/sms",
		timeout:   timeout,
		transport: tr,
	}, nil
}

// maxIdlePerHost bounds the idle connections kept to Vonage: above the
// worker concurrency Parley runs with by default (20).
const maxIdlePerHost = 64

// CloseIdleConnections closes the sender's pooled connections to Vonage,
// for shutdown.
func (s *Sender) CloseIdleConnections() {
	s.transport.CloseIdleConnections()
}

// SendRequest is one outbound SMS.
type SendRequest struct {
	// From is the sender: a number (E.164, with or without '+') or an
	// alphanumeric sender id of at most 11 characters.
	From string
	// To is the recipient in E.164, with or without '+'.
	To string
	// Text is the message; it must pass [Validate]. Its encoding decides
	// the SMS API's type: "unicode" for UCS-2, "text" for GSM-7.
	Text string
	// ClientRef is our message id, echoed in delivery receipts as
	// client-ref (at most 40 characters).
	ClientRef string
	// StatusReportURL, when set, overrides the delivery-receipt webhook
	// configured in Vonage's dashboard for this message.
	StatusReportURL string
}

// SendResult is what Vonage accepted.
type SendResult struct {
	// MessageIDs are Vonage's ids, one per accepted part; receipts arrive
	// per part under these ids.
	MessageIDs []string
	// Parts is the number of parts Vonage accepted. It normally equals
	// Count(Text).Segments, which is what was charged.
	Parts int
	// Encoding is how the text was sent.
	Encoding Encoding
}

// Send sends r through Vonage with a delivery receipt requested.
//
// The error is permanent, and wraps [ErrRejected], when the request can
// never succeed: Vonage refused it with a non-retryable status (see
// [StatusError]), or it failed the checks Vonage would apply (bad number,
// empty or over-long text, client-ref over 40 characters). Any other error
// (timeout, connection refused, HTTP 4xx/5xx, a malformed answer, a throttled
// or internal-error status, ctx cancelled) is worth retrying with backoff.
//
// When some parts of a multipart message were accepted before another part
// was refused, the error is permanent whatever the status (a retry would
// send the accepted parts again), and the result still lists the accepted
// parts' ids so their receipts can be matched.
//
// vonage-go-sdk's Send takes no context: Send binds ctx to the SDK's HTTP
// requests through the transport, so cancelling ctx aborts the request in
// flight, and VonageConfig.Timeout bounds it in any case. A cancelled send
// may still have reached Vonage; the receipt's client-ref finds it.
func (s *Sender) Send(ctx context.Context, r SendRequest) (SendResult, error) {
	p, err := prepareSend(r)
	if err != nil {
		return SendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return SendResult{}, fmt.Errorf("sms: vonage send: %w", err)
	}
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	client := vonage.NewSMSClient(vonage.CreateAuthFromKeySecret(s.apiKey, s.apiSecret))
	client.Config.BasePath = s.basePath
	client.Config.HTTPClient = &http.Client{
		Timeout:   s.timeout,
		Transport: contextTransport{ctx: callCtx, next: s.transport},
		// The API key and secret travel in the form body, which a 307 or
		// 308 would resend to wherever it points: never follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, errResp, err := sdkSend(client, p.from, p.to, r.Text, vonage.SMSOpts{
		StatusReportReq: true,
		Callback:        r.StatusReportURL,
		Type:            string(p.encoding),
		ClientRef:       r.ClientRef,
	})
	if err != nil {
		if errors.Is(err, errBadAnswer) {
			return SendResult{}, err
		}
		if ctx.Err() != nil {
			return SendResult{}, fmt.Errorf("sms: vonage send: %w", context.Cause(ctx))
		}
		return SendResult{}, fmt.Errorf("sms: vonage send: %w", err)
	}
	out, err := interpretSend(res, errResp)
	out.Encoding = p.encoding
	return out, err
}

// sdkSend calls the SDK, turning its panic on an answer without messages
// (v0.14.0 reads result.Messages[0] without a length check) into an error.
func sdkSend(c *vonage.SMSClient, from, to, text string, opts vonage.SMSOpts) (res vonage.Sms, errResp vonage.SmsErrorResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: sdk panicked: %v", errBadAnswer, p)
		}
	}()
	return c.Send(from, to, text, opts)
}

// contextTransport sends each request under ctx: vonage-go-sdk v0.14.0
// builds its requests with context.Background().
type contextTransport struct {
	ctx  context.Context
	next http.RoundTripper
}

// RoundTrip sends a copy of req carrying t.ctx.
func (t contextTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(req.WithContext(t.ctx))
}
