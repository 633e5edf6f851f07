// Package wincmd builds and splits Windows command lines by the rules
// CommandLineToArgvW and the Microsoft C runtime split them by: a process
// on Windows gets one string, not a list of arguments, so every argument
// with a blank or a quote must be quoted, and backslashes are literal
// unless they come before a double quote. Pure Go, tested on every
// system; it imports nothing of the project.
package wincmd

import "strings"

// Join joins arguments into one command line that splits back into the
// same arguments, quoting only those that need it (Escape).
func Join(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = Escape(a)
	}
	return strings.Join(quoted, " ")
}

// Escape returns s as one argument of a command line: as it is when it
// holds no blank or quote (and is not empty), else Quote(s).
func Escape(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	return Quote(s)
}

// Quote returns s inside double quotes, whatever it holds: a quote in it
// is escaped with a backslash, and the backslashes right before a quote
// or before the closing quote are doubled, so that 'C:\dir\' stays one
// argument ending in a backslash. Paths a service runs are always quoted
// this way (an unquoted path with a blank is the "unquoted service path"
// hole: Windows would try C:\Program.exe first).
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, 2*slashes+1))
			b.WriteByte('"')
			slashes = 0
		default:
			b.WriteString(strings.Repeat(`\`, slashes))
			b.WriteByte(c)
			slashes = 0
		}
	}
	b.WriteString(strings.Repeat(`\`, 2*slashes))
	b.WriteByte('"')
	return b.String()
}

// Split splits a command line into its arguments as the Microsoft C
// runtime does (CommandLineToArgvW for the arguments after the first): 2n
// backslashes before a quote are n backslashes and the quote opens or
// closes a quoted part, 2n+1 are n backslashes and a literal quote,
// backslashes elsewhere are literal, and blanks outside quotes separate
// arguments.
func Split(s string) []string {
	var (
		args    []string
		cur     strings.Builder
		inQuote bool
		started bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
				} else {
					inQuote = !inQuote
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
				i--
			}
			started = true
		case c == '"':
			inQuote = !inQuote
			started = true
		case (c == ' ' || c == '\t') && !inQuote:
			if started {
				args = append(args, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	if started {
		args = append(args, cur.String())
	}
	return args
}
