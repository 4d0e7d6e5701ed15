package jobs

import (
	"context"
	"errors"

	"github.com/parley-chat/parley/channels/sms"
)

// vonageSMS adapts the Vonage sender to SMSSender.
type vonageSMS struct{ s *sms.Sender }

// VonageSMS sends through Vonage's SMS API (or the simulator speaking it).
func VonageSMS(s *sms.Sender) SMSSender { return vonageSMS{s} }

// SendSMS implements SMSSender; Vonage's refusals become *RefusedError
// carrying Vonage's own text, and keep the ids of parts it accepted.
func (v vonageSMS) SendSMS(ctx context.Context, m SMS) ([]string, error) {
	res, err := v.s.Send(ctx, sms.SendRequest{From: m.From, To: m.To, Text: m.Text, ClientRef: m.ClientRef})
	if errors.Is(err, sms.ErrRejected) {
		reason := err.Error()
		var se *sms.StatusError
		if errors.As(err, &se) && se.Text != "" {
			reason = se.Text
		}
		return res.MessageIDs, &RefusedError{Reason: reason}
	}
	if err != nil {
		return nil, err
	}
	return res.MessageIDs, nil
}
