package web

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/channels/sms"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// preview counts what a composer's text will cost: characters, and for
// SMS the encoding, segments and credits (the same rules the sender uses),
// at rate credits per SMS segment or per email (0: the default rate).
func preview(channel, body string, rate int) views.PreviewData {
	p := views.PreviewData{Channel: channel, Chars: utf8.RuneCountInString(body)}
	if channel != models.ChannelSMS {
		p.Channel = models.ChannelEmail
		if rate <= 0 {
			rate = models.CreditsPerEmail
		}
		if strings.TrimSpace(body) != "" {
			p.Credits = rate
		}
		return p
	}
	if rate <= 0 {
		rate = models.CreditsPerSMSSegment
	}
	seg := sms.Count(body)
	p.Segments, p.Credits = seg.Segments, sms.Credits(seg, rate)
	p.Encoding = "GSM-7"
	if seg.Encoding == sms.UCS2 {
		p.Encoding = "Unicode"
		p.NonGSM = string(seg.NonGSM)
	}
	if seg.Segments > sms.MaxSegments {
		p.Error = "Too long: " + strconv.Itoa(seg.Segments) + " segments; the limit is " + strconv.Itoa(sms.MaxSegments) + "."
	}
	return p
}
