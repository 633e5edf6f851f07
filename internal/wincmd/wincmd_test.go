package wincmd

import (
	"slices"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "localhost", "localhost"},
		{"empty", "", `""`},
		{"space", "a b", `"a b"`},
		{"path with backslashes", `C:\Program Files\x\`, `"C:\Program Files\x\\"`},
		{"quote", `say "hi"`, `"say \"hi\""`},
		{"backslash before quote", `a\"b`, `"a\\\"b"`},
		{"backslashes only", `C:\dir\`, `C:\dir\`},
		{"tab", "a\tb", "\"a\tb\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Escape(tt.in)
			if got != tt.want {
				t.Errorf("Escape(%q) = %s, want %s", tt.in, got, tt.want)
			}
			if back := Split(got); len(back) != 1 || back[0] != tt.in {
				t.Errorf("%s splits back into %q, want [%q]", got, back, tt.in)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no blank: quoted all the same", `C:\bin\reconciler.exe`, `"C:\bin\reconciler.exe"`},
		{"blank", `C:\Program Files\reconciler\reconciler.exe`, `"C:\Program Files\reconciler\reconciler.exe"`},
		{"trailing backslash doubled", `C:\odd dir\`, `"C:\odd dir\\"`},
		{"UNC", `\\server\share\a b.yaml`, `"\\server\share\a b.yaml"`},
		{"quote after backslashes", `C:\we\"ird\`, `"C:\we\\\"ird\\"`},
		{"empty", ``, `""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Quote(tt.in)
			if got != tt.want {
				t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
			}
			if back := Split(got); len(back) != 1 || back[0] != tt.in {
				t.Errorf("%s splits back into %q, want [%q]", got, back, tt.in)
			}
		})
	}
}

func TestJoinRoundTrip(t *testing.T) {
	args := []string{`C:\Program Files\app.exe`, "", "plain", `a\`, `a\\`, `\"`, `a\"b`, `"`, `\\\"\\`, "tab\there"}
	if back := Split(Join(args)); !slices.Equal(back, args) {
		t.Errorf("Join then Split: %q, want %q", back, args)
	}
}
