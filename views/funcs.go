package views

import (
	"fmt"

	"github.com/parley-chat/parley/models"
	"html/template"
	"strings"
	"time"
)

// Funcs are the helpers templates may call.
func Funcs(asset func(string) string) template.FuncMap {
	return template.FuncMap{
		"asset":    asset,
		"deref":    deref,
		"initials": initials,
		"icon":     icon,
		"lower":    strings.ToLower,
		"deref64": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
		"derefOr": func(p *string, def string) string {
			if p == nil || *p == "" {
				return def
			}
			return *p
		},
		"item": func(c models.ConversationRow, e models.Event) ItemFrame {
			return ItemFrame{Conv: c, Item: e, Seq: e.ID}
		},
		"eventText":    eventText,
		"optedOutText": OptedOutText,
		"ticks":        ticks,
		"navItem": func(l Layout, key, href, label string) NavItem {
			return NavItem{Key: key, Href: href, Label: label, Active: l.Active == key}
		},
		"empty": func(icon, heading, text, next string) EmptyState {
			return EmptyState{Icon: icon, Heading: heading, Text: text, Next: next}
		},
		"since": since,
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return fmt.Sprintf("%d %s", n, one)
			}
			return fmt.Sprintf("%d %s", n, many)
		},
		"title":    title,
		"fileSize": fileSize,
	}
}

// fileSize renders a size in bytes for people ("512 bytes", "4.2 KB",
// "90 MB"), in powers of 1024 as file managers do.
func fileSize(n int64) string {
	const unit = 1024
	if n < unit {
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	suffix := []string{"KB", "MB", "GB", "TB"}[i]
	if v < 10 {
		return fmt.Sprintf("%.1f %s", v, suffix)
	}
	return fmt.Sprintf("%.0f %s", v, suffix)
}

// NavItem is one entry of the main navigation.
type NavItem struct {
	Key, Href, Label string
	Active           bool
}

// EmptyState is what a page shows while it has nothing to list: what the
// page is for, and what comes next.
type EmptyState struct {
	Icon, Heading, Text, Next string
}

// OptedOutText tells an agent why nothing can be sent on a channel.
func OptedOutText(channel string) string {
	name := "email"
	if channel == models.ChannelSMS {
		name = "SMS"
	}
	return "This recipient opted out of " + name + "; nothing can be sent to them."
}

// eventText says what a timeline event was, in words.
func eventText(e models.Event) string {
	who := "Someone"
	if e.ActorName != nil {
		who = *e.ActorName
	}
	switch e.Kind {
	case models.EvCreated:
		if e.ActorName == nil {
			return "The recipient started this conversation"
		}
		return who + " started this conversation"
	case models.EvAssigned:
		if e.ActorUserID != nil && detailID(e.Detail["assignee_id"]) == *e.ActorUserID {
			return who + " took this" // not "Sam assigned this to Sam"
		}
		name, _ := e.Detail["assignee_name"].(string)
		return who + " assigned this to " + name
	case models.EvUnassigned:
		return who + " unassigned this"
	case models.EvOpened:
		return who + " opened this"
	case models.EvClosed:
		return who + " closed this"
	case models.EvReopened:
		return who + " reopened this"
	case models.EvOptedOut:
		if e.Detail["source"] == models.ConsentByAgent {
			return who + " opted the recipient out" + consentReason(e)
		}
		if e.Detail["source"] == models.ConsentByUnsubscribe {
			return "The recipient unsubscribed from email"
		}
		return "The recipient opted out"
	case models.EvOptedIn:
		if e.Detail["source"] == models.ConsentByAgent {
			return who + " opted the recipient back in" + consentReason(e)
		}
		return "The recipient opted back in"
	}
	return e.Kind
}

// detailID reads an id from an event's detail: an int64 on an event just
// written, a float64 once the detail has been through JSON (jsonb).
func detailID(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	case int:
		return int64(n)
	}
	return 0
}

// ticks draws a message's delivery state.
func ticks(status string) string {
	switch status {
	case models.MsgQueued, models.MsgSending:
		return "◷"
	case models.MsgSent:
		return "✓"
	case models.MsgDelivered:
		return "✓✓"
	case models.MsgFailed:
		return "!"
	}
	return ""
}

// initials turns "Avery Admin" into "AA" for avatars.
func initials(name string) string {
	if strings.HasPrefix(name, "+") {
		return "#" // a phone number, no name yet
	}
	var out []rune
	for _, f := range strings.Fields(name) {
		out = append(out, []rune(strings.ToUpper(f))[0])
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// since renders a time as a short relative age ("just now", "5m", "3h", "Jan 2").
func since(t time.Time) string { return age(t, time.Now()) }

// age renders t as a short age as of now ("just now", "5m", "3h", "Jan 2").
func age(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 365*24*time.Hour:
		return t.Format("Jan 2")
	default:
		return t.Format("Jan 2, 2006")
	}
}

// consentReason is the reason given for a consent change by hand, as a
// clause ("" when none was given).
func consentReason(e models.Event) string {
	if r, _ := e.Detail["reason"].(string); r != "" {
		return ": " + r
	}
	return ""
}
