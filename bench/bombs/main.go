//go:build linux

// Command bombs measures the loader against hostile manifests: for each
// class of spectest.Bombs it runs the built `reconciler validate FILE` a few
// times and prints the worst wall time, CPU time and peak RSS, against the
// bound every file of at most 1 MiB must keep (2 s, 200 MB), and the exit
// code (1: refused with a problem; anything else is a failure).
//
// Usage: go run ./bench/bombs [-runs 3]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/reconciler/reconciler/bench/internal/benchrun"
	"github.com/reconciler/reconciler/spec"
	"github.com/reconciler/reconciler/spec/spectest"
)

// The bound of the safety issue, per file.
const (
	maxWall = 2 * time.Second
	maxRSS  = 200 << 20
)

func main() {
	runs := flag.Int("runs", 3, "runs per class; the worst is reported")
	flag.Parse()
	if err := run(*runs); err != nil {
		fmt.Fprintln(os.Stderr, "bombs:", err)
		os.Exit(1)
	}
}

func run(runs int) error {
	work, bin, err := benchrun.Prepare("bombs")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bombs := spectest.Bombs(spec.MaxFileSize)
	names := make([]string, 0, len(bombs))
	for name := range bombs {
		names = append(names, name)
	}
	slices.Sort(names)
	fmt.Printf("%-20s %8s %10s %10s %9s %5s  %s\n", "class", "bytes", "wall", "cpu", "peak RSS", "exit", "verdict")
	failed := false
	for _, name := range names {
		file := filepath.Join(work, "bomb.yaml")
		if err := os.WriteFile(file, []byte(bombs[name]), 0o644); err != nil {
			return err
		}
		var worst result
		for range runs {
			r, err := measure(bin, file, work)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			worst = worse(worst, r)
		}
		verdict := "ok"
		if worst.Wall > maxWall || worst.RSS > maxRSS || worst.Exit != 1 {
			verdict, failed = "OVER THE BOUND", true
		}
		fmt.Printf("%-20s %8d %10s %10s %7d MB %5d  %s\n", name, len(bombs[name]), worst.Wall.Round(time.Millisecond),
			worst.CPU.Round(time.Millisecond), worst.RSS>>20, worst.Exit, verdict)
	}
	fmt.Printf("bound per file: %v wall, %d MB peak RSS, refused with exit 1\n", maxWall, maxRSS>>20)
	if failed {
		return errors.New("a class is over the bound")
	}
	return nil
}

type result = benchrun.Result

// worse takes the worst of each measure.
func worse(r, o result) result {
	return result{Wall: max(r.Wall, o.Wall), CPU: max(r.CPU, o.CPU), RSS: max(r.RSS, o.RSS), Exit: max(r.Exit, o.Exit)}
}

// measure runs `reconciler validate file` once against an emulated host in
// work.
func measure(bin, file, work string) (result, error) {
	return benchrun.Measure(exec.Command(bin, "--log-level", "error", "--sim-state", filepath.Join(work, "host.json"), "validate", file))
}
