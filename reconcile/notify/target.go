package notify

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Target types.
const (
	// TypeWebhook is a generic webhook: the event as JSON (Event's JSON).
	TypeWebhook = "webhook"
	// TypeTeams is a Microsoft Teams incoming webhook (or a Teams
	// Workflows webhook): an Adaptive Card message.
	TypeTeams = "teams"
	// TypeSlack is a Slack incoming webhook: a text message with blocks.
	TypeSlack = "slack"
)

// Types are the target types, in the order help texts list them.
var Types = []string{TypeWebhook, TypeTeams, TypeSlack}

// ErrTarget is a notification target that cannot be used.
var ErrTarget = errors.New("bad notification target")

// Target is where notifications go: the `notify:` entries of the config
// file ({type, url}) and watch's --notify TYPE=URL.
type Target struct {
	// Type is TypeWebhook, TypeTeams or TypeSlack.
	Type string `json:"type" yaml:"type"`
	// URL is the webhook's address; it usually carries a secret, so it is
	// logged only as Redact shows it.
	URL string `json:"url" yaml:"url"`
}

// NewTarget checks and returns a target: a known type and an absolute
// http or https URL (https unless the host is a loopback address). An
// error shows the URL redacted.
func NewTarget(typ, rawURL string) (Target, error) {
	t := Target{Type: typ, URL: rawURL}
	return t, t.Validate()
}

// ParseTarget reads --notify's TYPE=URL.
func ParseTarget(s string) (Target, error) {
	typ, u, ok := strings.Cut(s, "=")
	if !ok {
		return Target{}, fmt.Errorf("%w %q: want TYPE=URL, TYPE one of %s", ErrTarget, Redact(s), strings.Join(Types, ", "))
	}
	return NewTarget(typ, u)
}

// Validate checks the target as NewTarget does.
func (t Target) Validate() error {
	if !slices.Contains(Types, t.Type) {
		return fmt.Errorf("%w: type %q: must be one of %s", ErrTarget, t.Type, strings.Join(Types, ", "))
	}
	u, err := url.Parse(t.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%w: %s url %s: want an absolute https:// URL", ErrTarget, t.Type, Redact(t.URL))
	}
	if u.User != nil {
		return fmt.Errorf("%w: %s url %s: user info in a URL is refused (it would be a credential in the configuration's plain text and in requests' logs elsewhere)", ErrTarget, t.Type, Redact(t.URL))
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return fmt.Errorf("%w: %s url %s: plain http:// only to this host; a webhook URL carries its secret, use https://", ErrTarget, t.Type, Redact(t.URL))
	}
	return nil
}

// String names the target for logs: its type and redacted URL.
func (t Target) String() string { return t.Type + " " + Redact(t.URL) }

// Redact shows a URL as its scheme and host only ("https://hooks.slack.com/…"):
// the path and query of a webhook URL are its secret.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "(unreadable URL)"
	}
	out := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		out += "/…"
	}
	return out
}

func loopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasPrefix(h, "127.")
}
