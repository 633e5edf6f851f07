//go:build linux

package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// fixed at 100 on Linux whatever the kernel's HZ.
const clockTicks = 100

// procUsage is what /proc says of a process at one moment.
type procUsage struct {
	at    time.Time
	cpu   time.Duration // utime + stime
	rssKB int64         // VmRSS
	hwmKB int64         // VmHWM: peak RSS since start
}

// readUsage reads /proc/PID/stat and /proc/PID/status.
func readUsage(pid int) (procUsage, error) {
	u := procUsage{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	if u.cpu, err = parseStatCPU(stat); err != nil {
		return u, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	if u.rssKB, err = statusKB(status, "VmRSS"); err != nil {
		return u, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	if u.hwmKB, err = statusKB(status, "VmHWM"); err != nil {
		return u, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return u, nil
}

// parseStatCPU returns utime+stime from the content of /proc/PID/stat.
// The command name (field 2) may hold spaces and parentheses, so fields
// are counted from the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no ')' after the command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("utime/stime %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// statusKB returns the value in kB of one "Key:   123 kB" line of
// /proc/PID/status.
func statusKB(status []byte, key string) (int64, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s: %q is not a size in kB", key, strings.TrimSpace(v))
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("no %s line", key)
}

// loadAverage returns the first three fields of /proc/loadavg and, where
// the kernel has pressure stall information, the share of the last 10 s in
// which some task waited for a CPU or for I/O.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	f := strings.Fields(string(b))
	out := strings.Join(f[:min(3, len(f))], " ")
	for _, res := range []string{"cpu", "io"} {
		if p, err := os.ReadFile("/proc/pressure/" + res); err == nil {
			out += fmt.Sprintf(", %s waits %s%%", res, pressureSome10(p))
		}
	}
	return out
}

// pressureSome10 returns the avg10 of the "some" line of a /proc/pressure
// file, "?" when absent.
func pressureSome10(psi []byte) string {
	for line := range strings.SplitSeq(string(psi), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "some" {
			continue
		}
		if v, ok := strings.CutPrefix(f[1], "avg10="); ok {
			return v
		}
	}
	return "?"
}

// fileOpen is one open of a file in a watched folder, by any process.
type fileOpen struct {
	at   time.Time // when the event was read
	name string    // relative to the root, slash-separated
}

// openCounter records the opens of the files of a folder tree, as inotify
// IN_OPEN reports them. The folders must exist when it starts; folders
// created later are not watched.
type openCounter struct {
	f    *os.File
	dirs map[int32]string // watch descriptor → folder relative to the root
	done chan struct{}

	mu    sync.Mutex
	opens []fileOpen
	err   error
}

// newOpenCounter watches root and every folder under it.
func newOpenCounter(root string) (*openCounter, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	// Non-blocking, so the file goes through the runtime poller and Close
	// unblocks Read.
	c := &openCounter{f: os.NewFile(uintptr(fd), "inotify"), dirs: make(map[int32]string), done: make(chan struct{})}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		wd, err := syscall.InotifyAddWatch(fd, path, syscall.IN_OPEN)
		if err != nil {
			return fmt.Errorf("inotify watch %s: %w", path, err)
		}
		rel, err := filepath.Rel(root, path)
		c.dirs[int32(wd)] = filepath.ToSlash(rel)
		return err
	})
	if err != nil {
		c.f.Close()
		return nil, err
	}
	go c.read()
	return c, nil
}

func (c *openCounter) read() {
	defer close(c.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := c.f.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				c.mu.Lock()
				c.err = fmt.Errorf("read inotify: %w", err)
				c.mu.Unlock()
			}
			return
		}
		now := time.Now()
		c.mu.Lock()
		c.opens = append(c.opens, parseInotify(buf[:n], now, c.dirs)...)
		c.mu.Unlock()
	}
}

// parseInotify decodes a buffer of inotify events into the opens of files
// (folders opened for listing and queue overflows are left out).
func parseInotify(buf []byte, at time.Time, dirs map[int32]string) []fileOpen {
	var out []fileOpen
	for len(buf) >= syscall.SizeofInotifyEvent {
		wd := int32(binary.NativeEndian.Uint32(buf[0:]))
		mask := binary.NativeEndian.Uint32(buf[4:])
		nameLen := int(binary.NativeEndian.Uint32(buf[12:]))
		end := syscall.SizeofInotifyEvent + nameLen
		if end > len(buf) {
			break
		}
		name := string(bytes.TrimRight(buf[syscall.SizeofInotifyEvent:end], "\x00"))
		buf = buf[end:]
		if mask&syscall.IN_OPEN == 0 || mask&syscall.IN_ISDIR != 0 || name == "" {
			continue
		}
		out = append(out, fileOpen{at: at, name: pathJoin(dirs[wd], name)})
	}
	return out
}

func pathJoin(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

// between returns the opens read in [from, to].
func (c *openCounter) between(from, to time.Time) ([]fileOpen, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []fileOpen
	for _, o := range c.opens {
		if !o.at.Before(from) && !o.at.After(to) {
			out = append(out, o)
		}
	}
	return out, c.err
}

// Close stops watching and waits for the reader.
func (c *openCounter) Close() error {
	err := c.f.Close()
	<-c.done
	return err
}
