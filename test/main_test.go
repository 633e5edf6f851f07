package test

import (
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the golden files of the scripts")

// binary is the reconciler binary built for these tests.
var binary string

// envBinary names a reconciler binary to test instead of building one.
const envBinary = "RECONCILER_TEST_BINARY"

// TestMain builds the binary once (with -race when the tests run with it),
// or takes $RECONCILER_TEST_BINARY, so every scenario runs the real
// program, on the emulated host.
func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "reconciler-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if binary = os.Getenv(envBinary); binary != "" {
		// Built elsewhere: a Windows test binary run where no go.exe is.
		if binary, err = filepath.Abs(binary); err != nil {
			fmt.Fprintln(os.Stderr, envBinary+":", err)
			os.Exit(1)
		}
	} else if binary, err = build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "build reconciler:", err)
		os.Exit(1)
	}
	// The emulated host, explicitly: the default driver is hcs on Windows.
	os.Setenv("RECONCILER_DRIVER", "sim")
	// A -race binary sleeps a second at exit by default; the scripts and
	// agents exit hundreds of times.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build builds the reconciler binary into dir and returns its path.
func build(dir string) (string, error) {
	binary := filepath.Join(dir, "reconciler")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "../cmd/reconciler")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return binary, cmd.Run()
}

// TestScripts runs the CLI scenarios of testdata/script against the built
// binary and an emulated host per script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(binary)+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("RECONCILER_SIM_STATE", filepath.Join(env.WorkDir, "host", "state.json"))
			env.Setenv("RECONCILER_DRIVER", "sim")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"aliasbomb": aliasBomb,
			"exitcode":  exitCode,
			"grepstate": grepState,
			"statesum":  stateSum,
		},
	})
}

// aliasBomb writes args[0]: a manifest of about 140 KB whose one 100 KB
// string is aliased 10,000 times (a gigabyte once expanded).
func aliasBomb(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: aliasbomb FILE")
	}
	doc := "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: web}\nspec:\n  image: 'mcr.microsoft.com/windows/nanoserver:ltsc2022'\n" +
		"  workingDir: &s \"" + strings.Repeat("A", 100<<10) + "\"\n  command: [" + strings.Repeat("*s, ", 10000) + "]\n"
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(doc), 0o644))
}

// grepState succeeds when a file of the emulated host's state (the state
// file and what sits beside it) matches the regular expression args[0].
func grepState(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: grepstate REGEXP")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	files, err := filepath.Glob(filepath.Join(filepath.Dir(ts.Getenv("RECONCILER_SIM_STATE")), "*"))
	ts.Check(err)
	found := false
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil && re.Match(data) {
			found = true
		}
	}
	if found == neg {
		ts.Fatalf("state files matching %q: %v, want %v", args[0], found, !neg)
	}
}

// exitCode runs args[1:] as exec does (its stdout and stderr are there for
// the commands that follow) and succeeds when it exits with code args[0].
func exitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		ee, ok := errors.AsType[*exec.ExitError](err)
		if !ok {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// stateSum writes to stdout the SHA-256 of the emulated host's state: the
// state file and what sits beside it with its name as a prefix, in name
// order, so that cmp of two sums tells whether anything changed.
func stateSum(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: statesum")
	}
	files, err := filepath.Glob(ts.Getenv("RECONCILER_SIM_STATE") + "*")
	ts.Check(err)
	sum := sha256.New()
	for _, f := range files { // Glob sorts them
		data, err := os.ReadFile(f)
		ts.Check(err)
		sum.Write(data)
	}
	fmt.Fprintf(ts.Stdout(), "%x\n", sum.Sum(nil))
}
