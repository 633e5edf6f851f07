package main

import "strings"

// ownerFileName is owner written as a part of a file name that is one
// plain file on every file system the agent runs on, and never another
// owner's. Every byte other than a lowercase ASCII letter, a digit, '-',
// '_' and '.' is written %XX (uppercase hex, as in a URL), so:
//   - ':' never reaches NTFS, where "agent-team:web.lock" would be the
//     alternate data stream "web.lock" of a file "agent-team";
//   - '/', '\', '*', '?', '"', '<', '>', '|', spaces and control characters
//     never reach the file system;
//   - two owners differing only in case ("Web", "web") get two names on a
//     case-insensitive file system (NTFS, APFS): capitals are escaped, and
//     the hex digits of an escape are always capitals.
//
// url.PathUnescape reverses it.
func ownerFileName(owner string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := range len(owner) {
		c := owner[i]
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
