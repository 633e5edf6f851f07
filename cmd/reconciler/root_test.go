package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// The one-agent-per-owner lock of the emulated host is keyed on the state
// file itself: an agent reaching the state through a symlink contends with
// one using the real path.
func TestLockAgentThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real", "host.json")
	link := filepath.Join(dir, "link.json")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	first := &globals{driver: "sim", simState: real, owner: "team:a"}
	l, err := first.lockAgent()
	if err != nil {
		t.Fatalf("first agent: %v", err)
	}
	defer l.Unlock()

	second := &globals{driver: "sim", simState: link, owner: "team:a"}
	if l2, err := second.lockAgent(); err == nil {
		l2.Unlock()
		t.Fatal("a second agent of the same owner got the lock through a symlink")
	} else if !strings.Contains(err.Error(), "another reconciler already manages") {
		t.Errorf("second agent: %v, want it to say another reconciler manages the owner", err)
	}

	other := &globals{driver: "sim", simState: link, owner: "team:b"}
	l3, err := other.lockAgent()
	if err != nil {
		t.Fatalf("another owner's agent: %v", err)
	}
	l3.Unlock()
}

// TestOutputJSONHonouredOrRefused: every command either prints JSON with
// -o json (its own tests check the JSON) or refuses the flag; none ignores it.
func TestOutputJSONHonouredOrRefused(t *testing.T) {
	root := newRootCommand(&globals{stdout: io.Discard, stderr: io.Discard})
	seen := map[string]bool{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() || c == root {
			return
		}
		path := c.CommandPath()
		seen[path] = true
		err := (&globals{output: "json"}).checkOutput(c)
		switch {
		case dataCommands[path] && err != nil:
			t.Errorf("%s: -o json refused, but it prints JSON: %v", path, err)
		case !dataCommands[path] && (err == nil || !strings.Contains(err.Error(), "prints no JSON")):
			t.Errorf("%s: -o json = %v, want a refusal", path, err)
		}
		if err := (&globals{output: "text"}).checkOutput(c); err != nil {
			t.Errorf("%s: -o text refused: %v", path, err)
		}
	}
	walk(root)
	for path := range dataCommands {
		if !seen[path] {
			t.Errorf("dataCommands names %q, which is no command", path)
		}
	}

	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-o", "json", "watch", "--dir", t.TempDir()}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--log-format json") {
		t.Errorf("watch -o json = %v, want a refusal pointing at --log-format json", err)
	}
}
