package sms_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/channels/sms"
)

func ExampleCount() {
	for _, text := range []string{
		"Your table is ready.",
		strings.Repeat("a", 161),
		"Grüße aus Łódź ✓",
	} {
		s := sms.Count(text)
		fmt.Printf("%s: %d segment(s), %d units, %d left of %d, %d credits, non-GSM %q\n",
			s.Encoding, s.Segments, s.Units, s.Remaining, s.PerSegment, sms.Credits(s, 2), string(s.NonGSM))
	}
	// Output:
	// text: 1 segment(s), 20 units, 140 left of 160, 2 credits, non-GSM ""
	// text: 2 segment(s), 161 units, 145 left of 153, 4 credits, non-GSM ""
	// unicode: 1 segment(s), 16 units, 54 left of 70, 2 credits, non-GSM "Łóź✓"
}

func ExampleValidate() {
	err := sms.Validate(strings.Repeat("✓", 700))
	fmt.Println(errors.Is(err, sms.ErrTooLong), err)
	// Output:
	// true sms: message too long: message is 11 segments; the limit is 10
}
