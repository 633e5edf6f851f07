package wincmd

import (
	"slices"
	"testing"
)

// TestQuoting: Escape quotes only what needs it, Quote everything; both
// split back into the argument they were given.
func TestQuoting(t *testing.T) {
	escape, quote := "Escape", "Quote"
	fns := map[string]func(string) string{escape: Escape, quote: Quote}
	tests := []struct{ fn, name, in, want string }{
		{escape, "plain", "localhost", "localhost"},
		{escape, "empty", "", `""`},
		{escape, "space", "a b", `"a b"`},
		{escape, "path with backslashes", `C:\Program Files\x\`, `"C:\Program Files\x\\"`},
		{escape, "quote", `say "hi"`, `"say \"hi\""`},
		{escape, "backslash before quote", `a\"b`, `"a\\\"b"`},
		{escape, "backslashes only", `C:\dir\`, `C:\dir\`},
		{escape, "tab", "a\tb", "\"a\tb\""},
		{quote, "no blank: quoted all the same", `C:\bin\reconciler.exe`, `"C:\bin\reconciler.exe"`},
		{quote, "blank", `C:\Program Files\reconciler\reconciler.exe`, `"C:\Program Files\reconciler\reconciler.exe"`},
		{quote, "trailing backslash doubled", `C:\odd dir\`, `"C:\odd dir\\"`},
		{quote, "UNC", `\\server\share\a b.yaml`, `"\\server\share\a b.yaml"`},
		{quote, "quote after backslashes", `C:\we\"ird\`, `"C:\we\\\"ird\\"`},
		{quote, "empty", ``, `""`},
	}
	for _, tt := range tests {
		t.Run(tt.fn+"/"+tt.name, func(t *testing.T) {
			got := fns[tt.fn](tt.in)
			if got != tt.want {
				t.Errorf("%s(%q) = %s, want %s", tt.fn, tt.in, got, tt.want)
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
