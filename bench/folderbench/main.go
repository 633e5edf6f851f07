//go:build linux

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Targets of issues 3 and 14.
const (
	targetP50      = 150 * time.Millisecond
	targetP99      = 300 * time.Millisecond
	targetIdleCPU  = 1.0                   // percent of one core
	targetPeakRSS  = 100 << 10             // kB
	targetIdleRSS  = 60 << 10              // kB, after the first pass
	targetPassCPU  = 50 * time.Millisecond // a pass without file changes
	sampleEvery    = 100 * time.Millisecond
	subfolders     = 10
	convergeWithin = 2 * time.Minute
	// settle is how long after the event an inotify IN_OPEN is counted:
	// events are read a little after the agent's log line.
	settle = 300 * time.Millisecond
	// racyWindow is the folder source's: a file read less than this long
	// after its mtime is read (and hashed, not parsed) again at the next
	// pass.
	racyWindow = 2 * time.Second
)

type config struct {
	binary     string
	n          int
	edits      int
	spacing    time.Duration
	fileEdits  int
	idle       time.Duration
	debounce   time.Duration
	runs       int
	workParent string
}

func main() {
	var c config
	flag.StringVar(&c.binary, "binary", "", "reconciler binary to measure (default: go build ./cmd/reconciler)")
	flag.IntVar(&c.n, "n", 1000, "manifests (one container each) converged before measuring")
	flag.IntVar(&c.edits, "edits", 100, "new manifests renamed into the folder for the latency measurement")
	flag.DurationVar(&c.spacing, "spacing", 400*time.Millisecond, "time between two renames of the latency measurement")
	flag.IntVar(&c.fileEdits, "file-edits", 5, "single-file isolation changes whose file opens are counted")
	flag.DurationVar(&c.idle, "idle", 65*time.Second, "idle window (≥ 60 s holds a rescan and two resyncs)")
	flag.DurationVar(&c.debounce, "debounce", 0, "agent --debounce (default: the agent's own, 150 ms)")
	flag.IntVar(&c.runs, "runs", 1, "measure this many times, each with a fresh folder, host and agent")
	flag.StringVar(&c.workParent, "work", "", "parent of the temporary work folder (default: the system's)")
	flag.Parse()
	if c.n < subfolders || c.edits < 1 || c.fileEdits < 1 || c.runs < 1 || c.spacing <= 0 || c.idle <= 0 {
		fmt.Fprintln(os.Stderr, "folderbench: -n must be at least 10; -edits, -file-edits, -runs, -spacing and -idle must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "folderbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, out io.Writer) error {
	work, err := os.MkdirTemp(c.workParent, "folderbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if c.binary == "" {
		c.binary = filepath.Join(work, "reconciler")
		build := exec.CommandContext(ctx, "go", "build", "-o", c.binary, "github.com/reconciler/reconciler/cmd/reconciler")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build reconciler (run from the repository, or give -binary): %w", err)
		}
	}
	fmt.Fprintf(out, "folderbench: %d manifests, %d latency edits %s apart, %d single-file edits, idle window %s, debounce %s, %d cores\n",
		c.n, c.edits, c.spacing, c.fileEdits, c.idle, debounceName(c.debounce), runtime.NumCPU())
	for r := 1; r <= c.runs; r++ {
		fmt.Fprintf(out, "\nrun %d of %d\n", r, c.runs)
		if err := measure(ctx, c, filepath.Join(work, fmt.Sprintf("run%d", r)), out); err != nil {
			return fmt.Errorf("run %d: %w", r, err)
		}
	}
	return nil
}

func debounceName(d time.Duration) string {
	if d <= 0 {
		return "default (150ms)"
	}
	return d.String()
}

// measure takes every measurement once, with a fresh folder, host and
// agent under work.
func measure(ctx context.Context, c config, work string, out io.Writer) (err error) {
	dir, stage := filepath.Join(work, "manifests"), filepath.Join(work, "stage")
	state := filepath.Join(work, "host", "state.json")
	if err := writeFolder(dir, stage, c.n); err != nil {
		return err
	}

	start := time.Now()
	pre := exec.CommandContext(ctx, c.binary, "--sim-state", state, "--log-level", "warn", "reconcile", dir)
	pre.Stdout, pre.Stderr = io.Discard, os.Stderr
	if err := pre.Run(); err != nil {
		return fmt.Errorf("reconcile %d manifests: %w", c.n, err)
	}
	fmt.Fprintf(out, "  setup: `reconcile` created %d containers in %s; load average %s\n", c.n, round(time.Since(start)), loadAverage())

	opens, err := newOpenCounter(dir)
	if err != nil {
		return err
	}
	defer opens.Close()
	ag, err := startAgent(c.binary, state, dir, c.debounce)
	if err != nil {
		return err
	}
	defer func() {
		if serr := ag.stop(); serr != nil && err == nil {
			err = serr
		}
	}()

	first, err := ag.log.wait(ctx, convergeWithin, "the first pass", logLine.isPass)
	if err != nil {
		return err
	}
	if first.Desired != c.n || first.Unchanged != c.n {
		return fmt.Errorf("first pass: desired %d, unchanged %d, want %d and %d", first.Desired, first.Unchanged, c.n, c.n)
	}
	if err := waitQuiet(ctx, ag, 2*time.Second); err != nil {
		return err
	}
	startup, err := opens.between(ag.started, first.end().Add(settle))
	if err != nil {
		return err
	}
	if len(startup) < c.n {
		return fmt.Errorf("the agent's first pass opened %d manifest files, want %d: the open count does not work here", len(startup), c.n)
	}
	fmt.Fprintf(out, "  agent start (control: every file is opened once; times from the agent's start):\n")
	if err := printPasses(out, ag.started, ag.log.passesEndingIn(ag.started, time.Now()), opens); err != nil {
		return err
	}

	if err := measureIdle(ctx, c, ag, opens, out); err != nil {
		return err
	}
	if err := measureFileEdits(ctx, c, ag, opens, dir, stage, out); err != nil {
		return err
	}
	if err := measureLatency(ctx, c, ag, dir, stage, out); err != nil {
		return err
	}
	u, err := readUsage(ag.pid())
	if err != nil {
		return err
	}
	figure(out, "watch-10k peak RSS", fmt.Sprintf("%.1f", mb(u.hwmKB)), "MB", "<=", fmt.Sprint(targetPeakRSS>>10))
	return nil
}

// measureIdle samples the agent's CPU and RSS every second over c.idle
// and splits the CPU between the seconds that saw a pass and the rest.
func measureIdle(ctx context.Context, c config, ag *agentProc, opens *openCounter, out io.Writer) error {
	load := loadAverage()
	first, err := readUsage(ag.pid())
	if err != nil {
		return err
	}
	samples := []procUsage{first}
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for time.Since(first.at) < c.idle {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		u, err := readUsage(ag.pid())
		if err != nil {
			return err
		}
		samples = append(samples, u)
	}
	last := samples[len(samples)-1]
	passes := ag.log.passesEndingIn(first.at, last.at)

	var passCPU, restCPU time.Duration
	var restWall time.Duration
	var maxRSS int64
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		maxRSS = max(maxRSS, b.rssKB)
		busy := slices.ContainsFunc(passes, func(p logLine) bool { return p.start().Before(b.at) && p.end().After(a.at) })
		if busy {
			passCPU += b.cpu - a.cpu
		} else {
			restCPU += b.cpu - a.cpu
			restWall += b.at.Sub(a.at)
		}
	}
	wall := last.at.Sub(first.at)
	cpuPct := percentOf(last.cpu-first.cpu, wall)
	fmt.Fprintf(out, "  idle %s (load average %s → %s): CPU %s = %.2f %% of one core; RSS %.1f MB (max in window %.1f MB, VmHWM %.1f MB)\n",
		round(wall), load, loadAverage(), last.cpu-first.cpu, cpuPct, mb(last.rssKB), mb(maxRSS), mb(last.hwmKB))
	fmt.Fprintf(out, "    %d passes in the window cost %s of CPU (the %s samples they ran in); the other %s cost %s (%.2f %%)\n",
		len(passes), passCPU, sampleEvery, round(restWall), restCPU, percentOf(restCPU, restWall))
	if err := printPasses(out, ag.started, passes, opens); err != nil {
		return err
	}
	var resync, rescan time.Duration
	for _, p := range passes {
		cpu := cpuDuring(samples, p)
		kind := "resync: no file read, no walk"
		if ag.log.walked(p) {
			kind = "rescan: the folder walked and every file stat'ed"
			rescan = max(rescan, cpu)
		} else {
			resync = max(resync, cpu)
		}
		fmt.Fprintf(out, "    pass %d (%s): CPU %s\n", p.Pass, kind, cpu)
	}
	fmt.Fprintf(out, "    target < %.0f %% of one core and < %d MB RSS: %s\n", targetIdleCPU, targetIdleRSS>>10,
		verdict(cpuPct < targetIdleCPU && last.rssKB <= targetIdleRSS))
	figure(out, "watch-10k steady RSS", fmt.Sprintf("%.1f", mb(last.rssKB)), "MB", "<=", fmt.Sprint(targetIdleRSS>>10))
	figure(out, "watch-10k no-change resync pass CPU", ms(resync), "ms", "<=", ms(targetPassCPU))
	// The rescan is the safety net for lost events (every 60 s it stats
	// every file): the issue's bound is on the resync, not on it.
	fmt.Fprintf(out, "figure: watch-10k periodic rescan pass CPU = %s ms (no target: walks and stats all %d files)\n", ms(rescan), c.n)
	return nil
}

// cpuDuring is the CPU of the samples that overlap pass p.
func cpuDuring(samples []procUsage, p logLine) time.Duration {
	var cpu time.Duration
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		if p.start().Before(b.at) && p.end().After(a.at) {
			cpu += b.cpu - a.cpu
		}
	}
	return cpu
}

// figure prints one figure in the bench/ convention.
func figure(out io.Writer, name, value, unit, op, target string) {
	fmt.Fprintf(out, "figure: %s = %s %s (target %s %s %s)\n", name, value, unit, op, target, unit)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// waitQuiet waits until the agent has run no pass for quiet.
func waitQuiet(ctx context.Context, ag *agentProc, quiet time.Duration) error {
	for {
		last := time.Time{}
		if ps := ag.log.filter(logLine.isPass); len(ps) > 0 {
			last = ps[len(ps)-1].end()
		}
		wait := time.Until(last.Add(quiet))
		if wait <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// printPasses prints one line per pass, with its start relative to since
// and the manifest files opened while it ran.
func printPasses(out io.Writer, since time.Time, passes []logLine, opens *openCounter) error {
	for _, p := range passes {
		o, err := opens.between(p.start(), p.end().Add(settle))
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "    pass %d at +%s: %d desired, %d unchanged, %d changes, %s, opened %d manifest files\n",
			p.Pass, p.start().Sub(since).Round(10*time.Millisecond), p.Desired, p.Unchanged, p.Created+p.Recreated+p.Removed, round(secs(p.Duration)), len(o))
	}
	return nil
}

// measureFileEdits changes the isolation of single files, one at a time,
// and reports which manifest files the agent opened for each. Besides the
// edited file, the folder source opens again a file it last read less
// than racyWindow after the file's mtime (too recent to trust): such a
// re-read hashes unchanged content and parses nothing. Any other open is a
// file read for no reason.
func measureFileEdits(ctx context.Context, c config, ag *agentProc, opens *openCounter, dir, stage string, out io.Writer) error {
	fmt.Fprintf(out, "  single-file edits (isolation process → hyperv, atomic rename), load average %s:\n", loadAverage())
	written := make(map[string]time.Time)
	uncalled := 0
	for k := range c.fileEdits {
		i := (k*(c.n/c.fileEdits) + k) % c.n
		rel := manifestPath(i)
		t0, err := renameIn(stage, dir, rel, manifest(containerName(i), "hyperv"))
		if err != nil {
			return err
		}
		written[rel] = t0
		pass, err := ag.log.wait(ctx, 10*time.Second, "the pass of edit "+rel, func(l logLine) bool {
			return l.isPass() && l.end().After(t0) && l.Recreated > 0
		})
		if err != nil {
			return err
		}
		time.Sleep(settle)
		o, err := opens.between(t0, time.Now())
		if err != nil {
			return err
		}
		var edited int
		var reread, unexpected []string
		for _, x := range o {
			switch at, ok := written[x.name]; {
			case x.name == rel:
				edited++
			case ok && !trustedBefore(ag.log, at, pass.start()):
				reread = append(reread, fmt.Sprintf("%s (written %s before)", x.name, round(pass.start().Sub(at))))
			default:
				unexpected = append(unexpected, x.name)
			}
		}
		if edited == 0 {
			return fmt.Errorf("edit %s: the agent recreated without opening the file: the open count does not work", rel)
		}
		if edited > 1 {
			unexpected = append(unexpected, fmt.Sprintf("%s opened %d times", rel, edited))
		}
		uncalled += len(unexpected)
		fmt.Fprintf(out, "    %s: pass %d (%d recreated, %s, %d passes in all): opened %d manifest files: the edited one; recent re-reads %v; others %v\n",
			rel, pass.Pass, pass.Recreated, round(secs(pass.Duration)), len(ag.log.passesEndingIn(t0, time.Now())), len(o), reread, unexpected)
		time.Sleep(time.Second)
	}
	fmt.Fprintf(out, "    files opened besides the edited one and recent re-reads: %d; target one parse, not %d: %s\n",
		uncalled, c.n, verdict(uncalled == 0))
	return nil
}

// trustedBefore reports whether a pass started between written+racyWindow
// and before: that pass read the file late enough to trust its mtime from
// then on.
func trustedBefore(log *agentLog, written, before time.Time) bool {
	return len(log.filter(func(p logLine) bool {
		return p.isPass() && !p.start().Before(written.Add(racyWindow)) && p.start().Before(before)
	})) > 0
}

// measureLatency renames c.edits new manifests into the folder c.spacing
// apart and measures each one's rename → create issued.
func measureLatency(ctx context.Context, c config, ag *agentProc, dir, stage string, out io.Writer) error {
	load := loadAverage()
	renamed := make(map[string]time.Time, c.edits)
	next := time.Now()
	for k := range c.edits {
		name := fmt.Sprintf("edit-%03d", k)
		time.Sleep(time.Until(next))
		next = next.Add(c.spacing)
		t0, err := renameIn(stage, dir, fmt.Sprintf("team-%d/%s.yaml", k%subfolders, name), manifest(name, "process"))
		if err != nil {
			return err
		}
		renamed[name] = t0
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	issued := make(map[string]logLine, c.edits)
	_, err := ag.log.wait(ctx, 15*time.Second, "every create", func(l logLine) bool {
		if _, ok := renamed[l.Name]; ok && l.isAction() && l.Action == "create" {
			issued[l.Name] = l
		}
		return len(issued) == len(renamed)
	})
	if err != nil {
		return fmt.Errorf("%w (%d of %d creates seen)", err, len(issued), len(renamed))
	}
	passEnd := make(map[uint64]logLine)
	for _, p := range ag.log.filter(logLine.isPass) {
		passEnd[p.Pass] = p
	}

	var total, toPass, inPass, passDur, actDur []time.Duration
	failed := 0
	passes := map[uint64]bool{}
	for name, t0 := range renamed {
		a := issued[name]
		if a.Msg != "action done" {
			failed++
		}
		total = append(total, a.start().Sub(t0))
		actDur = append(actDur, secs(a.Duration))
		if p, ok := passEnd[a.Pass]; ok {
			toPass = append(toPass, p.start().Sub(t0))
			inPass = append(inPass, a.start().Sub(p.start()))
			if !passes[a.Pass] {
				passDur = append(passDur, secs(p.Duration))
			}
		}
		passes[a.Pass] = true
	}
	p50, p99 := percentile(total, 50), percentile(total, 99)
	fmt.Fprintf(out, "  latency, %d new manifests renamed in %s apart (load average %s → %s):\n", c.edits, c.spacing, load, loadAverage())
	fmt.Fprintf(out, "    rename → create issued: p50 %s, p99 %s, max %s (min %s); %d passes, %d creates failed\n",
		round(p50), round(p99), round(percentile(total, 100)), round(percentile(total, 0)), len(passes), failed)
	fmt.Fprintf(out, "    of which rename → pass start p50 %s (p99 %s), pass start → create issued p50 %s (p99 %s); pass duration p50 %s (max %s)\n",
		round(percentile(toPass, 50)), round(percentile(toPass, 99)), round(percentile(inPass, 50)), round(percentile(inPass, 99)),
		round(percentile(passDur, 50)), round(percentile(passDur, 100)))
	fmt.Fprintf(out, "    create (driver call) p50 %s, p99 %s, max %s\n", round(percentile(actDur, 50)), round(percentile(actDur, 99)), round(percentile(actDur, 100)))
	if err := printSlowestPass(out, ag.log, renamed); err != nil {
		return err
	}
	fmt.Fprintf(out, "    target p50 ≤ %s, p99 ≤ %s: %s\n", targetP50, targetP99, verdict(p50 <= targetP50 && p99 <= targetP99 && failed == 0))
	figure(out, "watch-10k rename→create p50", ms(p50), "ms", "<=", ms(targetP50))
	figure(out, "watch-10k rename→create p99", ms(p99), "ms", "<=", ms(targetP99))
	return nil
}

// printSlowestPass prints where the slowest pass of the latency
// measurement spent its time: before its first action (walk, stats,
// reads and parses, the host's list, the plan) and in its actions.
func printSlowestPass(out io.Writer, log *agentLog, renamed map[string]time.Time) error {
	var slowest logLine
	for _, p := range log.filter(logLine.isPass) {
		if p.Duration > slowest.Duration && slices.ContainsFunc(log.filter(func(a logLine) bool { return a.isAction() && a.Pass == p.Pass }),
			func(a logLine) bool { _, ok := renamed[a.Name]; return ok }) {
			slowest = p
		}
	}
	actions := log.filter(func(a logLine) bool { return a.isAction() && a.Pass == slowest.Pass })
	if len(actions) == 0 {
		return errors.New("no pass with an action of the latency edits")
	}
	firstIssue, maxAction := actions[0].start(), time.Duration(0)
	for _, a := range actions {
		if a.start().Before(firstIssue) {
			firstIssue = a.start()
		}
		maxAction = max(maxAction, secs(a.Duration))
	}
	fmt.Fprintf(out, "    slowest pass %d: %s, of which %s before its first action; %d actions, the longest %s\n",
		slowest.Pass, round(secs(slowest.Duration)), round(firstIssue.Sub(slowest.start())), len(actions), round(maxAction))
	return nil
}

// renameIn writes content to a file in stage and renames it to rel under
// dir (one atomic rename, as editors and kubectl-style tools save),
// returning the time just before the rename.
func renameIn(stage, dir, rel, content string) (time.Time, error) {
	tmp := filepath.Join(stage, strings.ReplaceAll(rel, "/", "_"))
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return time.Time{}, err
	}
	t0 := time.Now()
	if err := os.Rename(tmp, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
		return time.Time{}, err
	}
	return t0, nil
}

// writeFolder writes n manifests in subfolders of dir, dated an hour ago
// (a folder at rest: the folder source trusts the size and mtime of a file
// whose mtime is not recent), and makes the staging folder next to it.
func writeFolder(dir, stage string, n int) error {
	for _, d := range []string{dir, stage} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	old := time.Now().Add(-time.Hour)
	for i := range n {
		path := filepath.Join(dir, filepath.FromSlash(manifestPath(i)))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(manifest(containerName(i), "process")), 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(path, old, old); err != nil {
			return err
		}
	}
	return nil
}

func containerName(i int) string { return fmt.Sprintf("app-%05d", i) }

func manifestPath(i int) string {
	return fmt.Sprintf("team-%d/%s.yaml", i%subfolders, containerName(i))
}

// manifest is a manifest of typical size.
func manifest(name, isolation string) string {
	return fmt.Sprintf(`apiVersion: reconciler/v1
kind: Container
metadata:
  name: %s
  labels: {app: %s, tier: backend}
spec:
  image: mcr.microsoft.com/windows/servercore:ltsc2022
  isolation: %s
  command: [ping, localhost, -t]
  workingDir: 'C:\app'
  env: {LOG_LEVEL: info, MODE: production}
  hostname: %s
  restartPolicy: always
  resources: {cpuCount: 2, cpuMaximumPercent: 50, memoryMB: 1024}
`, name, name, isolation, name)
}

// percentile returns the p-th percentile of ds by nearest rank (p 0: the
// minimum, 100: the maximum); 0 for no samples.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100
	return s[max(rank, 1)-1]
}

func percentOf(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return 100 * float64(cpu) / float64(wall)
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func round(d time.Duration) time.Duration {
	if d >= time.Second || d <= -time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
