package models

import "strings"

// Keyword kinds an inbound SMS can be (CTIA / carrier rules; product.md).
const (
	KeywordStop  = "stop"
	KeywordStart = "start"
	KeywordHelp  = "help"
)

var keywords = map[string]string{
	"STOP": KeywordStop, "STOPALL": KeywordStop, "UNSUBSCRIBE": KeywordStop, "CANCEL": KeywordStop,
	"END": KeywordStop, "QUIT": KeywordStop, "REVOKE": KeywordStop, "OPTOUT": KeywordStop, "OPT-OUT": KeywordStop,
	"START": KeywordStart, "UNSTOP": KeywordStart,
	"HELP": KeywordHelp,
}

// MatchKeyword reports which keyword a whole message is, ignoring case
// and spaces ("  Stop ", "s t o p", "OPT-OUT"), or "".
func MatchKeyword(body string) string {
	if len(body) > 40 {
		return ""
	}
	return keywords[strings.ToUpper(strings.Join(strings.Fields(body), ""))]
}
