package source

import (
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// redacted replaces the user info of a URL (user name, password or token)
// wherever one could be shown.
const redacted = "***"

// schemeRe tells a URL with a scheme from a local path or an scp-like
// user@host:path, as go-git does.
var schemeRe = regexp.MustCompile(`^[^:]+://`)

// userinfoInText finds the user info of the URLs in a free text such as a
// transport error: from "scheme://" to the last "@" before the end of the
// authority (a /, ?, #, white space or quote). A URL that parsed (as every
// URL go-git or net/http quotes did) holds none of those in its user info.
var userinfoInText = regexp.MustCompile("([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\\s\"'<>`]*@")

// authHeaderInText finds the value of an authorization header a server
// repeated in its answer: "Basic dXNlcjp0b2tlbg==", "Bearer ..." (16
// characters at least, so that "basic authentication" stays).
var authHeaderInText = regexp.MustCompile(`(?i)\b(basic|bearer)( +)[A-Za-z0-9+/._~-]{16,}=*`)

// redactURL returns the repository URL raw with its user info replaced by
// "***": https://TOKEN@host/x → https://***@host/x, user:pass@host:x →
// ***@host:x. A URL that does not parse is cut at its last "@", so that a
// password holding "/", "?" or "#" is hidden too (a path holding "@" is
// hidden with it). A local path and a URL without user info are returned
// unchanged.
func redactURL(raw string) string {
	if schemeRe.MatchString(raw) {
		start := strings.Index(raw, "://") + len("://")
		rest := raw[start:]
		end := len(rest)
		if _, err := url.Parse(raw); err == nil {
			if i := strings.IndexAny(rest, "/?#"); i >= 0 {
				end = i
			}
		}
		at := strings.LastIndex(rest[:end], "@")
		if at < 0 {
			return raw
		}
		return raw[:start] + redacted + rest[at:]
	}
	if ep, err := transport.NewEndpoint(raw); err != nil || ep.Protocol != "ssh" {
		return raw // a local path
	}
	// scp-like: go-git's user runs to the first "@", its host to the next
	// ":"; the user info ends at the last "@" before that ":".
	first := strings.Index(raw, "@")
	if first < 0 {
		return raw
	}
	hostEnd := len(raw)
	if i := strings.Index(raw[first:], ":"); i >= 0 {
		hostEnd = first + i
	}
	return redacted + raw[strings.LastIndex(raw[:hostEnd], "@"):]
}

// RedactText returns s with the user info of every URL in it, and the value
// of every authorization header, replaced by "***". The command line runs
// every message it prints through it, whatever produced it.
func RedactText(s string) string {
	s = userinfoInText.ReplaceAllString(s, "${1}"+redacted+"@")
	return authHeaderInText.ReplaceAllString(s, "${1}${2}"+redacted)
}

// redactError returns err with the user info of the URLs in its message,
// and each of secrets, replaced by "***". The result keeps err's class for
// errors.Is but no longer unwraps to err, whose message holds the secret.
func redactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := RedactText(err.Error())
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, redacted)
		}
	}
	if msg == err.Error() {
		return err
	}
	return redactedError{msg: msg, err: err}
}

// redactedError is an error whose message had a credential removed.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }

// Is keeps the wrapped error's class without exposing its message.
func (e redactedError) Is(target error) bool { return errors.Is(e.err, target) }
