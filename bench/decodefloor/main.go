//go:build linux

// Command decodefloor measures the dry run over 10,000 manifest files
// against the floor of issue 14: a bare program that walks the same folder
// and decodes every file in parallel (one worker per CPU) with
// go.yaml.in/yaml/v3 straight into a plain struct of the same fields. Both
// run as separate processes in the same run, interleaved, so that the ratio
// holds on a loaded machine; the floor is this program itself, re-executed
// with -floor.
//
// Ours is the built CLI, `reconciler reconcile --dry-run -o json FOLDER`
// against an empty emulated host (the figure of the issue), not an
// in-process call. The bytes allocated per manifest are measured in this
// process, over spec.Load of the same folder (the spec loading alone), and
// over the floor's decode for comparison.
//
// Usage, from the repository root:
//
//	go run ./bench/decodefloor [-n 10000] [-runs 5] [-dir FOLDER]
//	go run ./bench/decodefloor -generate FOLDER [-n 10000]
//
// The files are generated as bench/dryrun.sh does, unless -dir names a
// folder of manifests; -generate only writes them, to profile on.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/reconciler/reconciler/bench/internal/benchrun"
	"github.com/reconciler/reconciler/spec"
	"github.com/reconciler/reconciler/spec/spectest"
)

// Targets of issue 14, point 1.
const (
	targetRatio = 1.3
	// baseAllocPerManifest is what spec loading allocated per manifest
	// before this work (38 KB at commit 27714ee, measured with this
	// program); the target is half of it.
	baseAllocPerManifest = 38 << 10
)

func main() {
	floor := flag.String("floor", "", "decode this folder as the floor does and exit (used by the bench itself)")
	n := flag.Int("n", 10000, "manifests to generate, one per file")
	runs := flag.Int("runs", 5, "runs of each; medians are reported")
	dir := flag.String("dir", "", "a folder of manifests to measure instead of generated files")
	gen := flag.String("generate", "", "only generate the -n manifests in this folder (to profile on them) and exit")
	flag.Parse()
	if *gen != "" {
		if err := generate(*gen, *n); err != nil {
			fmt.Fprintln(os.Stderr, "decodefloor:", err)
			os.Exit(1)
		}
		return
	}
	if *floor != "" {
		count, err := decodeFloor(*floor, intoStruct)
		if err != nil {
			fmt.Fprintln(os.Stderr, "decodefloor:", err)
			os.Exit(1)
		}
		fmt.Println(count)
		return
	}
	if err := run(*n, *runs, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "decodefloor:", err)
		os.Exit(1)
	}
}

func run(n, runs int, dir string) error {
	work, bin, err := benchrun.Prepare("decodefloor")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if dir == "" {
		dir = filepath.Join(work, "manifests")
		if err := generate(dir, n); err != nil {
			return err
		}
	}
	count, err := decodeFloor(dir, intoStruct)
	if err != nil {
		return err
	}
	state := filepath.Join(work, "host", "state.json")
	if out, err := exec.Command(bin, "--sim-state", state, "sim", "host").CombinedOutput(); err != nil {
		return fmt.Errorf("sim host: %w: %s", err, out)
	}
	plan := filepath.Join(work, "plan.json")
	fmt.Printf("%d manifests in %s, %d CPUs, %d runs each, interleaved\n", count, dir, runtime.NumCPU(), runs)
	var floorRuns, oursRuns []result
	for range runs {
		r, err := measure(exec.Command(self, "-floor", dir), "")
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		floorRuns = append(floorRuns, r)
		r, err = measure(exec.Command(bin, "--log-level", "warn", "--sim-state", state,
			"reconcile", "--dry-run", "-o", "json", dir), plan)
		if err != nil {
			return fmt.Errorf("reconcile --dry-run: %w", err)
		}
		oursRuns = append(oursRuns, r)
		fmt.Printf("run %d: floor %.3fs wall %.3fs cpu, ours %.3fs wall %.3fs cpu\n", len(oursRuns),
			floorRuns[len(floorRuns)-1].Wall.Seconds(), floorRuns[len(floorRuns)-1].CPU.Seconds(), r.Wall.Seconds(), r.CPU.Seconds())
	}
	creates, err := planned(plan)
	if err != nil {
		return err
	}
	if creates != count {
		return fmt.Errorf("the dry run planned %d creates for %d manifests", creates, count)
	}
	floorMed, oursMed := median(floorRuns), median(oursRuns)
	// Each run of ours is paired with the run of the floor just before it:
	// the median of their ratios is what a varying load disturbs least.
	wallRatio, cpuRatio := pairedRatios(floorRuns, oursRuns)
	fmt.Printf("%-28s %8s %8s %9s\n", "median of "+fmt.Sprint(runs), "wall", "cpu", "peak RSS")
	for _, row := range []struct {
		name string
		r    result
	}{{"floor (yaml.v3 into struct)", floorMed}, {"reconcile --dry-run -o json", oursMed}} {
		fmt.Printf("%-28s %7.3fs %7.3fs %6d MB\n", row.name, row.r.Wall.Seconds(), row.r.CPU.Seconds(), row.r.RSS>>20)
	}
	// In process, interleaved: spec.Load, the floor, yaml.v3's tree alone.
	allocs, cpus, err := inProcess(runs, count, func() error {
		set, err := spec.Load(dir)
		if err == nil && len(set.Containers) != count {
			err = fmt.Errorf("spec.Load: %d containers, %d errors", len(set.Containers), len(set.Errors))
		}
		return err
	}, func() error {
		_, err := decodeFloor(dir, intoStruct)
		return err
	}, func() error {
		_, err := decodeFloor(dir, intoTree)
		return err
	})
	if err != nil {
		return err
	}
	oursAlloc, floorAlloc, treeAlloc := allocs[0], allocs[1], allocs[2]
	loadRatio := make([]float64, runs)
	for r := range runs {
		loadRatio[r] = cpus[0][r].Seconds() / cpus[1][r].Seconds()
	}
	slices.Sort(loadRatio)
	fmt.Printf("figure: decode-floor-%s wall = %.3f s (reference)\n", size(count), floorMed.Wall.Seconds())
	fmt.Printf("figure: dryrun-%s wall = %.3f s (target <= %.1fx floor = %.3f s)\n", size(count), oursMed.Wall.Seconds(), targetRatio, targetRatio*floorMed.Wall.Seconds())
	fmt.Printf("figure: dryrun-%s wall ratio = %.2f x floor (target <= %.1f x floor)\n", size(count), wallRatio, targetRatio)
	fmt.Printf("figure: dryrun-%s cpu ratio = %.2f x floor (reference)\n", size(count), cpuRatio)
	fmt.Printf("figure: dryrun-%s peak RSS = %d MB (reference; floor %d MB)\n", size(count), oursMed.RSS>>20, floorMed.RSS>>20)
	fmt.Printf("figure: spec-load-%s cpu ratio = %.2f x floor (reference; in process)\n", size(count), loadRatio[runs/2])
	fmt.Printf("figure: spec-load alloc per manifest = %.1f KB (target <= %.1f KB; floor %.1f KB, of which yaml.v3's node tree %.1f KB)\n",
		oursAlloc/1024, baseAllocPerManifest/2/1024.0, floorAlloc/1024, treeAlloc/1024)
	return nil
}

// size names a count for a figure: 10k for 10000.
func size(n int) string {
	if n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// generate writes n manifests, one per file, in 100 team folders, exactly
// as bench/dryrun.sh does.
func generate(dir string, n int) error {
	for i := range n {
		team := fmt.Sprintf("team-%d", i%100)
		if err := os.MkdirAll(filepath.Join(dir, team), 0o755); err != nil {
			return err
		}
		doc := spectest.DryRunManifest(i)
		if err := os.WriteFile(filepath.Join(dir, team, fmt.Sprintf("app-%d.yaml", i)), []byte(doc), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// floorManifest has the fields of spec.Container, with yaml tags: what a
// program that trusts its input decodes into.
type floorManifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Image         string            `yaml:"image"`
		Isolation     string            `yaml:"isolation"`
		OSVersion     string            `yaml:"osVersion"`
		Command       []string          `yaml:"command"`
		WorkingDir    string            `yaml:"workingDir"`
		Env           map[string]string `yaml:"env"`
		Hostname      string            `yaml:"hostname"`
		RestartPolicy string            `yaml:"restartPolicy"`
		Resources     struct {
			CPUCount          int `yaml:"cpuCount"`
			CPUMaximumPercent int `yaml:"cpuMaximumPercent"`
			MemoryMB          int `yaml:"memoryMB"`
		} `yaml:"resources"`
		Mounts []struct {
			HostPath      string `yaml:"hostPath"`
			ContainerPath string `yaml:"containerPath"`
			ReadOnly      bool   `yaml:"readOnly"`
		} `yaml:"mounts"`
		NamedPipes []struct {
			HostPipe      string `yaml:"hostPipe"`
			ContainerPipe string `yaml:"containerPipe"`
		} `yaml:"namedPipes"`
		Ports []struct {
			HostPort      int    `yaml:"hostPort"`
			ContainerPort int    `yaml:"containerPort"`
			Protocol      string `yaml:"protocol"`
		} `yaml:"ports"`
		Network struct {
			Mode      string `yaml:"mode"`
			Namespace string `yaml:"namespace"`
		} `yaml:"network"`
		Devices []struct {
			IDType string `yaml:"idType"`
			ID     string `yaml:"id"`
		} `yaml:"devices"`
	} `yaml:"spec"`
}

// intoStruct decodes a manifest as the floor does, into a plain struct.
func intoStruct(data []byte) (bool, error) {
	var m floorManifest
	err := yaml.Unmarshal(data, &m)
	return m.Metadata.Name != "", err
}

// intoTree only parses a manifest into yaml.v3's node tree, which is what
// the floor's decode and spec's both start from: the allocation no decoder
// on yaml.v3 goes below.
func intoTree(data []byte) (bool, error) {
	var n yaml.Node
	err := yaml.Unmarshal(data, &n)
	return len(n.Content) > 0, err
}

// decodeFloor is the floor: walk dir for *.yaml files, then read and
// decode them with one worker per CPU. It returns how many decoded.
func decodeFloor(dir string, decode func([]byte) (bool, error)) (int, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yaml") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	var (
		next, decoded atomic.Int64
		wg            sync.WaitGroup
		errs          = make([]error, len(files))
	)
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(files) {
					return
				}
				data, err := os.ReadFile(files[i])
				ok := false
				if err == nil {
					ok, err = decode(data)
				}
				if errs[i] = err; ok {
					decoded.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(decoded.Load()), errors.Join(errs...)
}

// inProcess runs each of fns once to warm up, then runs times each,
// interleaved, and returns for each the median of the bytes allocated per
// manifest, and the CPU time this process spent (GC included) in each run.
func inProcess(runs, count int, fns ...func() error) (allocs []float64, cpus [][]time.Duration, err error) {
	per := make([][]float64, len(fns))
	cpus = make([][]time.Duration, len(fns))
	for _, fn := range fns {
		if err := fn(); err != nil {
			return nil, nil, err
		}
	}
	for range runs {
		for i, fn := range fns {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			cpuBefore, err := processCPU()
			if err != nil {
				return nil, nil, err
			}
			if err := fn(); err != nil {
				return nil, nil, err
			}
			cpuAfter, err := processCPU()
			if err != nil {
				return nil, nil, err
			}
			runtime.ReadMemStats(&after)
			per[i] = append(per[i], float64(after.TotalAlloc-before.TotalAlloc)/float64(count))
			cpus[i] = append(cpus[i], cpuAfter-cpuBefore)
		}
	}
	for _, p := range per {
		slices.Sort(p)
		allocs = append(allocs, p[runs/2])
	}
	return allocs, cpus, nil
}

// processCPU is the CPU time this process has spent so far.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

type result = benchrun.Result

// median takes the median of each measure separately.
func median(rs []result) result {
	pick := func(f func(result) int64) int64 {
		vs := make([]int64, len(rs))
		for i, r := range rs {
			vs[i] = f(r)
		}
		slices.Sort(vs)
		return vs[len(vs)/2]
	}
	return result{
		Wall: time.Duration(pick(func(r result) int64 { return int64(r.Wall) })),
		CPU:  time.Duration(pick(func(r result) int64 { return int64(r.CPU) })),
		RSS:  pick(func(r result) int64 { return r.RSS }),
	}
}

// pairedRatios returns the medians of ours[i]/floor[i], for wall and CPU
// time.
func pairedRatios(floor, ours []result) (wall, cpu float64) {
	ws, cs := make([]float64, len(ours)), make([]float64, len(ours))
	for i := range ours {
		ws[i] = ours[i].Wall.Seconds() / floor[i].Wall.Seconds()
		cs[i] = ours[i].CPU.Seconds() / floor[i].CPU.Seconds()
	}
	slices.Sort(ws)
	slices.Sort(cs)
	return ws[len(ws)/2], cs[len(cs)/2]
}

// measure runs cmd to completion, its output to out (discarded if
// empty); a failure is an error.
func measure(cmd *exec.Cmd, out string) (result, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return result{}, err
		}
		defer f.Close()
		cmd.Stdout = f
	}
	r, err := benchrun.Measure(cmd)
	if err == nil && r.Exit != 0 {
		err = fmt.Errorf("exit %d: %s", r.Exit, stderr.Bytes())
	}
	return r, err
}

// planned counts the creates in a JSON plan.
func planned(plan string) (int, error) {
	data, err := os.ReadFile(plan)
	if err != nil {
		return 0, err
	}
	return bytes.Count(data, []byte(`"action": "create"`)), nil
}
