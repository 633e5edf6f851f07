package notify

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Kind is what an event reports.
type Kind string

// The event kinds.
const (
	// Failed: a pass's actions failed (or a failed recreate waits to be
	// retried).
	Failed Kind = "failed"
	// Held: removals are held (beyond --max-removals, or a partial view).
	Held Kind = "held"
	// Rollback: an update was rolled back to the previous spec.
	Rollback Kind = "rollback"
	// SourceFailing: a source (or the host) could not be read for several
	// passes in a row.
	SourceFailing Kind = "source-failing"
	// Recovered: everything that failed works again.
	Recovered Kind = "recovered"
)

// Event is one notification: the JSON a generic webhook receives.
type Event struct {
	Event Kind   `json:"event"`
	Host  string `json:"host"`
	Owner string `json:"owner"`
	// Containers are the containers concerned, by name (none for a source).
	Containers []string `json:"containers"`
	// Reasons say what happened, one line each ("web: create: image not
	// found", "source git https://…: remote unreachable").
	Reasons []string  `json:"reasons"`
	Time    time.Time `json:"time"`
}

// Title is the event in a few words, for chat messages.
func (e Event) Title() string {
	what := map[Kind]string{
		Failed:        "actions failed",
		Held:          "removals held",
		Rollback:      "update rolled back",
		SourceFailing: "source keeps failing",
		Recovered:     "recovered",
	}[e.Event]
	if what == "" {
		what = string(e.Event)
	}
	return fmt.Sprintf("reconciler on %s (owner %s): %s", e.Host, e.Owner, what)
}

// userInfo matches a URL's user info, which a reason must never carry.
var userInfo = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://)[^/@\s]+@`)

// clean returns the event with each reason cut to one line of at most
// maxReason runes and stripped of URL user info, and lists never null.
func (e Event) clean() Event {
	const maxReason = 500
	reasons := make([]string, 0, len(e.Reasons))
	for _, r := range e.Reasons {
		r = userInfo.ReplaceAllString(strings.Join(strings.Fields(r), " "), "$1")
		if rs := []rune(r); len(rs) > maxReason {
			r = string(rs[:maxReason]) + "…"
		}
		reasons = append(reasons, r)
	}
	e.Reasons = reasons
	if e.Containers == nil {
		e.Containers = []string{}
	}
	return e
}

// encode renders the event as the target type's request body.
func encode(typ string, e Event) ([]byte, error) {
	e = e.clean()
	switch typ {
	case TypeTeams:
		return json.Marshal(teamsMessage(e))
	case TypeSlack:
		return json.Marshal(slackMessage(e))
	}
	return json.Marshal(e)
}

// lines is the event's body as text lines: the containers, then the
// reasons.
func (e Event) lines() []string {
	var out []string
	if len(e.Containers) > 0 {
		out = append(out, "Containers: "+strings.Join(e.Containers, ", "))
	}
	return append(out, e.Reasons...)
}

// teamsMessage is a Microsoft Teams message carrying an Adaptive Card, as
// incoming webhooks (and Workflows' "when a Teams webhook request is
// received") take it.
func teamsMessage(e Event) map[string]any {
	body := []map[string]any{
		{"type": "TextBlock", "text": e.Title(), "weight": "Bolder", "size": "Medium", "wrap": true,
			"color": map[bool]string{true: "Good", false: "Attention"}[e.Event == Recovered]},
		{"type": "FactSet", "facts": []map[string]string{
			{"title": "Event", "value": string(e.Event)},
			{"title": "Host", "value": e.Host},
			{"title": "Owner", "value": e.Owner},
			{"title": "Time", "value": e.Time.UTC().Format(time.RFC3339)},
		}},
	}
	for _, l := range e.lines() {
		body = append(body, map[string]any{"type": "TextBlock", "text": l, "wrap": true})
	}
	return map[string]any{
		"type": "message",
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"content": map[string]any{
				"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
				"type":    "AdaptiveCard",
				"version": "1.4",
				"body":    body,
			},
		}},
	}
}

// slackMessage is a Slack incoming-webhook message: text (the
// notification's preview) and blocks.
func slackMessage(e Event) map[string]any {
	text := e.Title()
	detail := strings.Join(e.lines(), "\n")
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": truncate(text, 150)}},
		{"type": "context", "elements": []map[string]any{{"type": "mrkdwn",
			"text": fmt.Sprintf("*%s* · %s", e.Event, e.Time.UTC().Format(time.RFC3339))}}},
	}
	if detail != "" {
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "plain_text", "text": truncate(detail, 3000)}})
	}
	return map[string]any{"text": text, "blocks": blocks}
}

func truncate(s string, n int) string {
	if rs := []rune(s); len(rs) > n {
		return string(rs[:n-1]) + "…"
	}
	return s
}
