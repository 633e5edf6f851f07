package winsvc

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// splitCommandLine splits a Windows command line as CommandLineToArgvW
// (and the Go runtime on Windows) does: the program name runs to the
// next quote when it starts with one, else to the first blank; then 2n
// backslashes before a quote are n backslashes and the quote opens or
// closes a quoted part, 2n+1 are n backslashes and a literal quote, and
// backslashes elsewhere are literal.
func splitCommandLine(cmd string) []string {
	var args []string
	if strings.HasPrefix(cmd, `"`) {
		end := strings.IndexByte(cmd[1:], '"')
		args = append(args, cmd[1:1+end])
		cmd = cmd[2+end:]
	} else {
		name, rest, _ := strings.Cut(cmd, " ")
		args, cmd = append(args, name), rest
	}
	var (
		cur     strings.Builder
		inQuote bool
		started bool
	)
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(cmd) && cmd[i] == '\\' {
				n++
				i++
			}
			if i < len(cmd) && cmd[i] == '"' {
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
			inQuote, started = !inQuote, true
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

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name, exe, config, want string
	}{
		{name: "the installer's paths (the contract with the MSI)",
			exe: `C:\Program Files\reconciler\reconciler.exe`, config: `C:\ProgramData\reconciler\reconciler.yaml`,
			want: `"C:\Program Files\reconciler\reconciler.exe" watch --config "C:\ProgramData\reconciler\reconciler.yaml"`},
		{name: "no space: still quoted", exe: `C:\bin\reconciler.exe`, config: `D:\cfg.yaml`,
			want: `"C:\bin\reconciler.exe" watch --config "D:\cfg.yaml"`},
		{name: "trailing backslash doubled", exe: `C:\x\reconciler.exe`, config: `C:\odd dir\`,
			want: `"C:\x\reconciler.exe" watch --config "C:\odd dir\\"`},
		{name: "UNC path", exe: `\\server\share\reconciler.exe`, config: `\\server\share\my config.yaml`,
			want: `"\\server\share\reconciler.exe" watch --config "\\server\share\my config.yaml"`},
		{name: "a quote in a name (not a valid Windows path, still one argument)", exe: `C:\a\r.exe`, config: `C:\we"ird\`,
			want: `"C:\a\r.exe" watch --config "C:\we\"ird\\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CommandLine(tt.exe, tt.config)
			if got != tt.want {
				t.Errorf("CommandLine = %s\nwant          %s", got, tt.want)
			}
			// Windows splits it back into exactly what was meant.
			if args := splitCommandLine(got); !reflect.DeepEqual(args, []string{tt.exe, "watch", "--config", tt.config}) {
				t.Errorf("Windows reads it as %q", args)
			}
		})
	}
}

func TestQuoteArgRoundTrip(t *testing.T) {
	for _, s := range []string{``, `a`, `a b`, `a\`, `a\\`, `\"`, `a\"b`, `"`, `\\\"\\`, "tab\there"} {
		got := splitCommandLine(`x.exe ` + QuoteArg(s))
		if len(got) != 2 || got[1] != s {
			t.Errorf("QuoteArg(%q) = %s, read back as %q", s, QuoteArg(s), got)
		}
	}
}

func TestPaths(t *testing.T) {
	tests := []struct {
		name, programData             string
		wantDir, wantConfig, wantLogs string
	}{
		{name: "default", programData: `C:\ProgramData`,
			wantDir: `C:\ProgramData\reconciler`, wantConfig: `C:\ProgramData\reconciler\reconciler.yaml`, wantLogs: `C:\ProgramData\reconciler\logs`},
		{name: "unset", programData: "",
			wantDir: `C:\ProgramData\reconciler`, wantConfig: `C:\ProgramData\reconciler\reconciler.yaml`, wantLogs: `C:\ProgramData\reconciler\logs`},
		{name: "elsewhere, trailing backslash", programData: `D:\Data\`,
			wantDir: `D:\Data\reconciler`, wantConfig: `D:\Data\reconciler\reconciler.yaml`, wantLogs: `D:\Data\reconciler\logs`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("ProgramData", tt.programData)
			if got := ProgramDataDir(); got != tt.wantDir {
				t.Errorf("ProgramDataDir = %s, want %s", got, tt.wantDir)
			}
			if got := DefaultConfigPath(); got != tt.wantConfig {
				t.Errorf("DefaultConfigPath = %s, want %s", got, tt.wantConfig)
			}
			if got := LogDir(); got != tt.wantLogs {
				t.Errorf("LogDir = %s, want %s", got, tt.wantLogs)
			}
		})
	}
}

// The recovery table: restart after 5 s, 30 s, then every 60 s, the count
// starting over after a day without failure.
func TestRecovery(t *testing.T) {
	want := []time.Duration{5 * time.Second, 30 * time.Second, time.Minute}
	if !reflect.DeepEqual(Recovery, want) || RecoveryReset != 24*time.Hour {
		t.Errorf("Recovery %v reset %s, want %v reset 24h", Recovery, RecoveryReset, want)
	}
	for i := 1; i < len(Recovery); i++ {
		if Recovery[i] < Recovery[i-1] {
			t.Errorf("delay %d (%s) shorter than the one before", i, Recovery[i])
		}
	}
}
