//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// logLine is the part of a zap JSON log line of the agent that the
// measurements use.
type logLine struct {
	Level     string    `json:"level"`
	TS        time.Time `json:"ts"` // ISO 8601
	Msg       string    `json:"msg"`
	Pass      uint64    `json:"pass"`
	Action    string    `json:"action"`
	Name      string    `json:"name"`
	Reason    string    `json:"reason"`
	Duration  float64   `json:"duration"` // seconds
	Desired   int       `json:"desired"`
	Created   int       `json:"created"`
	Recreated int       `json:"recreated"`
	Removed   int       `json:"removed"`
	Unchanged int       `json:"unchanged"`
	Failed    int       `json:"failed"`
	Errors    int       `json:"errors"`
}

// end is when the line was logged: the end of a pass or an action.
func (l logLine) end() time.Time { return l.TS }

// start is when the pass or action began: ts minus duration.
func (l logLine) start() time.Time {
	return l.end().Add(-time.Duration(l.Duration * float64(time.Second)))
}

func (l logLine) isPass() bool { return l.Msg == "pass done" }

func (l logLine) isAction() bool { return l.Msg == "action done" || l.Msg == "action failed" }

// agentLog collects the agent's log lines as they arrive.
type agentLog struct {
	mu      sync.Mutex
	lines   []logLine
	changed chan struct{} // closed and replaced on every new line
	eof     bool
}

func (l *agentLog) add(line logLine) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *agentLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.eof = true
	close(l.changed)
	l.changed = make(chan struct{})
}

// wait returns the first line that matches, looking at every line logged
// so far and then as they arrive, until timeout.
func (l *agentLog) wait(ctx context.Context, timeout time.Duration, what string, match func(logLine) bool) (logLine, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		l.mu.Lock()
		lines, changed, eof := l.lines[seen:], l.changed, l.eof
		seen = len(l.lines)
		l.mu.Unlock()
		for _, line := range lines {
			if match(line) {
				return line, nil
			}
		}
		if eof {
			return logLine{}, fmt.Errorf("waiting for %s: the agent exited", what)
		}
		select {
		case <-changed:
		case <-deadline.C:
			return logLine{}, fmt.Errorf("waiting for %s: nothing after %s", what, timeout)
		case <-ctx.Done():
			return logLine{}, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}

// filter returns the lines logged so far that match.
func (l *agentLog) filter(match func(logLine) bool) []logLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logLine
	for _, line := range l.lines {
		if match(line) {
			out = append(out, line)
		}
	}
	return out
}

// passesEndingIn returns the "pass done" lines logged in (from, to].
func (l *agentLog) passesEndingIn(from, to time.Time) []logLine {
	return l.filter(func(x logLine) bool { return x.isPass() && x.end().After(from) && !x.end().After(to) })
}

// walked reports whether pass p walked the folder: the folder source
// logged "folder scanned" while it ran.
func (l *agentLog) walked(p logLine) bool {
	return len(l.filter(func(x logLine) bool {
		return x.Msg == "folder scanned" && !x.end().Before(p.start()) && !x.end().After(p.end())
	})) > 0
}

// agentProc is a running `reconciler watch`.
type agentProc struct {
	cmd     *exec.Cmd
	log     *agentLog
	started time.Time
	readers sync.WaitGroup
}

// startAgent starts `reconciler --sim-state state --log-format json watch
// --dir dir` (with --debounce when debounce > 0) and collects its logs.
// Lines at warn level or above are copied to stderr.
func startAgent(bin, state, dir string, debounce time.Duration) (*agentProc, error) {
	// Debug level: the folder source's "folder scanned" line tells a pass
	// that walked the folder from one that did not.
	args := []string{"--sim-state", state, "--log-format", "json", "--log-level", "debug", "watch", "--dir", dir}
	if debounce > 0 {
		args = append(args, "--debounce", debounce.String())
	}
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	a := &agentProc{cmd: cmd, log: &agentLog{changed: make(chan struct{})}}
	a.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start agent: %w", err)
	}
	a.readers.Go(func() { a.readLog(stderr) })
	return a, nil
}

func (a *agentProc) readLog(r io.Reader) {
	defer a.log.close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var line logLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Msg == "" {
			fmt.Fprintf(os.Stderr, "agent: %s\n", sc.Bytes())
			continue
		}
		if line.Level != "info" && line.Level != "debug" {
			fmt.Fprintf(os.Stderr, "agent: %s\n", sc.Bytes())
		}
		a.log.add(line)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "folderbench: reading the agent's log: %v\n", err)
	}
}

func (a *agentProc) pid() int { return a.cmd.Process.Pid }

// stop sends SIGTERM, waits up to 30 s for a clean exit (then kills), and
// returns an error unless the agent exited 0.
func (a *agentProc) stop() error {
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop agent: %w", err)
	}
	exited := make(chan error, 1)
	go func() {
		a.readers.Wait() // Wait closes the pipe: read it all first
		exited <- a.cmd.Wait()
	}()
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("agent exit: %w", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = a.cmd.Process.Kill()
		<-exited
		return errors.New("agent did not exit within 30 s of SIGTERM: killed")
	}
}
