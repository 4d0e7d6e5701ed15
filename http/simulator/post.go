package simulator

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/channels/sms"
)

// post signs params and POSTs them as a form to one of Parley's webhooks.
func (s *Simulator) post(path string, p url.Values) error {
	if s.cfg.SignatureSecret != "" {
		p.Set("timestamp", strconv.FormatInt(time.Now().Unix(), 10))
		p.Set("sig", sms.Sign(p, s.cfg.SignatureSecret, s.cfg.SignatureMethod))
	}
	resp, err := s.client.Post(strings.TrimRight(s.cfg.BaseURL, "/")+path, "application/x-www-form-urlencoded", strings.NewReader(p.Encode()))
	if err != nil {
		return fmt.Errorf("simulator: post %s: %w", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("simulator: post %s: status %d", path, resp.StatusCode)
	}
	return nil
}

// Text sends a text from a simulated phone to an inbox number through
// Parley's real inbound webhook, as Vonage would deliver it.
func (s *Simulator) Text(phone, inbox, text string) error {
	now := time.Now().UTC()
	id := newID()
	p := url.Values{
		"msisdn": {strings.TrimPrefix(phone, "+")}, "to": {strings.TrimPrefix(inbox, "+")},
		"messageId": {id}, "text": {text}, "type": {"text"},
		"keyword":           {strings.ToUpper(strings.SplitN(strings.TrimSpace(text)+" ", " ", 2)[0])},
		"message-timestamp": {now.Format("2006-01-02 15:04:05")},
	}
	if err := s.post("/webhooks/vonage/inbound", p); err != nil {
		return err
	}
	s.add(Message{ID: id, Phone: phone, Inbox: inbox, FromPhone: true, Text: text, Parts: sms.Count(text).Segments, At: now})
	return nil
}
