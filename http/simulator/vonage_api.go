package simulator

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/channels/sms"
)

// RejectSuffix: texts to numbers ending in it are refused like Vonage
// refuses a non-whitelisted destination, so failures can be demonstrated.
const RejectSuffix = "0999"

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// VonageSend answers POST {Path}/sms/json like Vonage's SMS API, records
// the text on the phone, and posts a receipt for every part shortly after.
// It is a provider endpoint: no session, no CSRF; it checks the API key
// and secret instead. http/web's route table mounts it.
func (s *Simulator) VonageSend(c *fiber.Ctx) error {
	// Clone: Fiber's strings point into buffers it reuses, and these are kept.
	f := func(k string) string { return strings.Clone(strings.TrimSpace(c.FormValue(k))) }
	if f("api_key") != s.cfg.APIKey || f("api_secret") != s.cfg.APISecret {
		return c.JSON(vonageAnswer("4", "Bad Credentials", nil, ""))
	}
	to, from, text := e164(f("to")), e164(f("from")), strings.Clone(c.FormValue("text"))
	if f("to") == "" || f("from") == "" || text == "" {
		return c.JSON(vonageAnswer("2", "Missing to, from or text", nil, ""))
	}
	parts := sms.Count(text).Segments
	m := Message{Phone: to, Inbox: from, Text: text, Parts: parts, At: time.Now(), Status: "delivered"}
	if strings.HasSuffix(to, RejectSuffix) {
		m.Status = "rejected"
		s.add(m)
		return c.JSON(vonageAnswer("29", "Non White-listed Destination - rejected", nil, to))
	}
	ids := make([]string, parts)
	for i := range ids {
		ids[i] = newID()
	}
	m.ID = ids[0]
	s.add(m)
	ref := f("client-ref")
	go s.postReceipts(ids, to, from, ref)
	return c.JSON(vonageAnswer("0", "", ids, to))
}

// vonageAnswer is the SMS API's JSON answer.
func vonageAnswer(status, errText string, ids []string, to string) fiber.Map {
	var msgs []fiber.Map
	if len(ids) == 0 {
		msgs = append(msgs, fiber.Map{"status": status, "error-text": errText})
	}
	for _, id := range ids {
		msgs = append(msgs, fiber.Map{"to": strings.TrimPrefix(to, "+"), "message-id": id, "status": status,
			"remaining-balance": "10.00", "message-price": "0.0075", "network": "00000"})
	}
	return fiber.Map{"message-count": strconv.Itoa(len(msgs)), "messages": msgs}
}

// postReceipts sends one signed "delivered" receipt per part to Parley's
// real status webhook, as Vonage does.
func (s *Simulator) postReceipts(ids []string, to, from, ref string) {
	time.Sleep(s.cfg.ReceiptDelay) // Vonage's receipts also come a little later
	now := time.Now().UTC()
	for _, id := range ids {
		p := url.Values{
			"msisdn": {strings.TrimPrefix(to, "+")}, "to": {strings.TrimPrefix(from, "+")},
			"network-code": {"00000"}, "messageId": {id}, "price": {"0.0075"}, "status": {"delivered"},
			"scts": {now.Format("0601021504")}, "err-code": {"0"}, "client-ref": {ref},
			"message-timestamp": {now.Format("2006-01-02 15:04:05")},
		}
		if err := s.post("/webhooks/vonage/status", p); err != nil {
			s.log.Warn("simulated receipt not accepted", "message_id", id, "err", err)
		}
	}
}
