//go:build linux

// Command gitbench measures the git source at issue 14's scale (target 4):
// clone and first evaluation of a repository of -manifests files over
// -commits commits, the source's peak RSS, and the CPU of a poll of an
// unchanged remote. From the repository root, on Linux with git on PATH:
//
//	go run ./bench/gitbench
//
// It builds the repository with git fast-import, then measures in a fresh
// child process (so that building the fixture does not count): the time
// from GitSource.Run to its first snapshot, the process's own peak RSS
// (getrusage maxrss, which excludes the git-upload-pack it runs), and the
// CPU of -polls triggered polls that find the remote unchanged, each one
// observed through the source's "fetch skipped" debug log. The CPU is the
// process's own and, separately, that of the git-upload-pack children that
// answer the ref listing of a file:// remote (an https remote answers over
// the network instead). As a floor it times `git clone --bare --no-local`
// of the same repository. Figures are printed as
// `figure: <name> = <value> <unit> (target <op> <value> <unit>)`.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/reconciler/reconciler/internal/testfixture"
	"github.com/reconciler/reconciler/reconcile/source"
)

// Targets of issue 14, point 4.
const (
	targetClone   = 3 * time.Second
	targetRSSMB   = 150
	targetPollCPU = 10 * time.Millisecond
)

// result is what the child measures, sent to the parent as JSON.
type result struct {
	Clone      time.Duration `json:"clone"`
	CloneCPU   time.Duration `json:"cloneCPU"`   // own CPU of the clone and first evaluation
	CloneChild time.Duration `json:"cloneChild"` // git-upload-pack's CPU for the clone
	Containers int           `json:"containers"`
	Errors     int           `json:"errors"`
	MaxRSSKB   int64         `json:"maxRSSKB"`
	Polls      int           `json:"polls"`
	PollCPU    time.Duration `json:"pollCPU"`   // own CPU per poll
	PollChild  time.Duration `json:"pollChild"` // git-upload-pack CPU per poll
}

func main() {
	manifests := flag.Int("manifests", 20000, "manifest files in the repository")
	commits := flag.Int("commits", 2000, "commits in the repository")
	polls := flag.Int("polls", 50, "unchanged polls measured")
	child := flag.String("child", "", "internal: measure the source on this remote")
	cache := flag.String("cache", "", "internal: the child's cache dir")
	profile := flag.String("cpuprofile", "", "write the measured process's CPU profile to this file")
	flag.Parse()
	if *child != "" {
		if err := measure(*child, *cache, *polls, *profile); err != nil {
			fmt.Fprintln(os.Stderr, "gitbench child:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*manifests, *commits, *polls, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "gitbench:", err)
		os.Exit(1)
	}
}

func run(manifests, commits, polls int, profile string) error {
	work, err := os.MkdirTemp("", "gitbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	remote := filepath.Join(work, "remote.git")
	if err := testfixture.BuildLargeRemote(remote, manifests, commits); err != nil {
		return err
	}
	start := time.Now()
	floor := exec.Command("git", "clone", "-q", "--bare", "--no-local", remote, filepath.Join(work, "floor.git"))
	floor.Env = append(os.Environ(), testfixture.GitEnv...)
	if out, err := floor.CombinedOutput(); err != nil {
		return fmt.Errorf("git clone: %v\n%s", err, out)
	}
	floorTime := time.Since(start)

	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-child", remote, "-cache", filepath.Join(work, "cache"), "-polls", fmt.Sprint(polls), "-cpuprofile", profile)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("child: %v", err)
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		return fmt.Errorf("child output %q: %v", out, err)
	}
	if r.Containers != manifests || r.Errors != 0 {
		return fmt.Errorf("first snapshot: %d containers, %d errors; want %d and none", r.Containers, r.Errors, manifests)
	}
	var load [3]float64
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscan(string(b), &load[0], &load[1], &load[2])
	}
	name := fmt.Sprintf("git-%dk-%dc", manifests/1000, commits)
	fmt.Printf("load average: %.2f %.2f %.2f\n", load[0], load[1], load[2])
	fmt.Printf("figure: %s clone+eval = %.2f s (target <= %.1f s)\n", name, r.Clone.Seconds(), targetClone.Seconds())
	fmt.Printf("figure: %s clone+eval CPU = %.2f s (own; git-upload-pack %.2f s; no target)\n", name, r.CloneCPU.Seconds(), r.CloneChild.Seconds())
	fmt.Printf("figure: %s git-clone floor = %.2f s (ratio %.2fx)\n", name, floorTime.Seconds(), r.Clone.Seconds()/floorTime.Seconds())
	fmt.Printf("figure: %s peak RSS = %d MB (target <= %d MB)\n", name, r.MaxRSSKB>>10, targetRSSMB)
	fmt.Printf("figure: %s unchanged poll CPU = %.2f ms (target <= %d ms)\n", name, ms(r.PollCPU), targetPollCPU.Milliseconds())
	fmt.Printf("figure: %s unchanged poll git-upload-pack CPU = %.2f ms (file:// only, no target)\n", name, ms(r.PollChild))
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// measure runs the source on remote in this process and writes a result
// on stdout.
func measure(remote, cache string, polls int, profile string) error {
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	source.InstallFileTransport()
	skipped := make(chan struct{}, 1)
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(discard{}), zap.DebugLevel),
		zap.Hooks(func(e zapcore.Entry) error {
			if e.Message == "remote head unchanged: fetch skipped" {
				skipped <- struct{}{}
			}
			return nil
		}))
	g, err := source.NewGitSource(source.GitOptions{URL: remote, CacheDir: cache, Interval: time.Hour, Logger: log})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan struct{}, 1)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- g.Run(ctx, func() {
			select {
			case first <- struct{}{}:
			default:
			}
		})
	}()
	select {
	case <-first:
	case err := <-done:
		return fmt.Errorf("run ended before the first snapshot: %v", err)
	}
	r := result{Clone: time.Since(start)}
	r.CloneCPU, r.CloneChild = usage()
	snap, _ := g.Snapshot(ctx)
	r.Containers, r.Errors = len(snap.Containers), len(snap.Errors)
	if s := g.Status(); s.LastError != "" {
		return fmt.Errorf("first poll: %s", s.LastError)
	}
	self0, children0 := usage()
	for range polls {
		g.Trigger()
		select {
		case <-skipped:
		case err := <-done:
			return fmt.Errorf("run ended: %v", err)
		}
	}
	self1, children1 := usage()
	r.Polls = polls
	r.PollCPU = (self1 - self0) / time.Duration(max(polls, 1))
	r.PollChild = (children1 - children0) / time.Duration(max(polls, 1))
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	r.MaxRSSKB = ru.Maxrss
	cancel()
	<-done
	return json.NewEncoder(os.Stdout).Encode(r)
}

// usage is the CPU (user+system) of this process and of its waited-for
// children.
func usage() (self, children time.Duration) {
	cpu := func(who int) time.Duration {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) != nil {
			return 0
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return cpu(syscall.RUSAGE_SELF), cpu(syscall.RUSAGE_CHILDREN)
}

// discard is a zapcore.WriteSyncer writing nowhere: the bench only counts
// log entries through the hook.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Sync() error                 { return nil }
