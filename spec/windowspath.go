package spec

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// isDNSLabel reports whether s is an RFC 1123 label in lowercase.
func isDNSLabel(s string) bool {
	if s == "" || len(s) > maxDNSLabel || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLowerAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// isGUID accepts 8-4-4-4-12 hex digits, optionally in braces.
func isGUID(s string) bool {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// isImageReference reports whether go-containerregistry parses s as an
// image reference (tag or digest).
func isImageReference(s string) bool {
	_, err := name.ParseReference(s)
	return err == nil
}

// isDrivePath accepts an absolute Windows path on a drive: a letter, ':',
// a separator ('\' or '/'), and no character Windows forbids in names.
func isDrivePath(s string) bool {
	if len(s) < 3 || s[1] != ':' || !isSeparator(s[2]) {
		return false
	}
	if c := s[0] | 0x20; c < 'a' || c > 'z' {
		return false
	}
	return validPathChars(s[3:])
}

// isUNCPath accepts \\server\share[\path] (either separator), not the
// device namespaces \\.\ and \\?\.
func isUNCPath(s string) bool {
	if len(s) < 5 || !isSeparator(s[0]) || !isSeparator(s[1]) {
		return false
	}
	server, rest, ok := cutSeparator(s[2:])
	if !ok || server == "" || server == "." || server == "?" {
		return false
	}
	share, _, _ := cutSeparator(rest)
	return share != "" && validPathChars(s[2:])
}

// isNamedPipe accepts \\.\pipe\NAME, the prefix in any case.
func isNamedPipe(s string) bool {
	if len(s) <= len(namedPipePrefix) || !strings.EqualFold(s[:len(namedPipePrefix)], namedPipePrefix) {
		return false
	}
	pipe := s[len(namedPipePrefix):]
	return !strings.ContainsRune(pipe, '\\') && validPathChars(pipe)
}

func isSeparator(c byte) bool { return c == '\\' || c == '/' }

func cutSeparator(s string) (before, after string, found bool) {
	if i := strings.IndexAny(s, `\/`); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// validPathChars rejects control characters and the characters Windows
// forbids in file names (<>:"|?*).
func validPathChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || strings.IndexByte(`<>:"|?*`, c) >= 0 {
			return false
		}
	}
	return true
}

// windowsPathKey folds what Windows treats as the same path: case,
// separators and a trailing separator.
func windowsPathKey(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "/", `\`))
	if len(s) > 3 {
		s = strings.TrimRight(s, `\`)
	}
	return s
}
