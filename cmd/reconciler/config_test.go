package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// watchWithConfig parses args as watch's command line and reads its
// --config, as the root command does before watch runs.
func watchWithConfig(t *testing.T, args ...string) (*globals, *cobra.Command, error) {
	t.Helper()
	g := &globals{stdout: io.Discard, stderr: io.Discard}
	root := newRootCommand(g)
	watch, _, err := root.Find([]string{"watch"})
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	if err := g.loadConfig(watch); err != nil {
		return g, watch, err
	}
	return g, watch, g.setup()
}

// The shipped default config (the MSI installs it as
// %ProgramData%\reconciler\reconciler.yaml) loads against watch's real
// flags, and the command line still wins over it.
func TestExampleConfigLoads(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "config", "reconciler.yaml")
	g, watch, err := watchWithConfig(t, "--config", path, "--owner", "from-cli")
	if err != nil {
		t.Fatalf("%s does not load: %v", path, err)
	}
	if g.driver != "hcs" || g.owner != "from-cli" || g.logLevel != "info" {
		t.Errorf("driver %q owner %q log-level %q, want hcs (file), from-cli (command line), info", g.driver, g.owner, g.logLevel)
	}
	if got := watch.Flags().Lookup("dir").Value.String(); got != `[C:\ProgramData\reconciler\manifests]` {
		t.Errorf("dir = %s", got)
	}
	if got := watch.Flags().Lookup("listen").Value.String(); got != "127.0.0.1:9440" {
		t.Errorf("listen = %s", got)
	}
	if len(g.notifyTargets()) != 0 {
		t.Errorf("notify targets %v: the example has none enabled", g.notifyTargets())
	}
}

// A config file that sets a global flag badly is refused before any
// command runs, at its line.
func TestConfigErrorsNameTheLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reconciler.yaml")
	if err := os.WriteFile(path, []byte("dir: ['C:\\m']\ndriverr: sim\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := watchWithConfig(t, "--config", path)
	if err == nil || !strings.Contains(err.Error(), path+`:2: driverr: unknown field "driverr"; did you mean "driver"?`) {
		t.Fatalf("error %v, want the line and a did-you-mean", err)
	}
}
