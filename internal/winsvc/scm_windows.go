//go:build windows

package winsvc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// IsService reports whether the process was started by the SCM.
func IsService() bool {
	ok, err := svc.IsWindowsService()
	return err == nil && ok
}

// wineSCM is set by the lifecycle test under Wine only: Install leaves
// out the two settings Wine's SCM lacks (ERROR_INVALID_LEVEL), a delayed
// start and recovery on a stop with an error, which Windows has.
var wineSCM = false

// Install creates the service: automatic start (delayed), running
// CommandLine(exe, config) as LocalSystem, restarted on failure as
// Recovery says (a stop with an error counts), and registers the event
// source. An existing service is an error naming it.
func Install(exe, config string) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service control manager (run as Administrator): %w", err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(Name); err == nil {
		s.Close()
		return fmt.Errorf("service %s is already installed: uninstall it first", Name)
	}
	s, err := m.CreateService(Name, exe, mgr.Config{
		DisplayName:      DisplayName,
		Description:      Description,
		StartType:        mgr.StartAutomatic,
		DelayedAutoStart: !wineSCM,
		ErrorControl:     mgr.ErrorNormal,
	}, "watch", "--config", config)
	if err != nil {
		return fmt.Errorf("create service %s: %w", Name, err)
	}
	defer s.Close()
	undo := func(err error) error {
		_ = s.Delete()
		return err
	}
	// CreateService quotes only what needs it; the binary path is set
	// again with both paths always quoted (see CommandLine), changing
	// nothing else.
	path, err := windows.UTF16PtrFromString(CommandLine(exe, config))
	if err != nil {
		return undo(err)
	}
	const same = windows.SERVICE_NO_CHANGE
	if err := windows.ChangeServiceConfig(s.Handle, same, same, same, path, nil, nil, nil, nil, nil, nil); err != nil {
		return undo(fmt.Errorf("set the service command line: %w", err))
	}
	actions := make([]mgr.RecoveryAction, len(Recovery))
	for i, d := range Recovery {
		actions[i] = mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: d}
	}
	if err := s.SetRecoveryActions(actions, uint32(RecoveryReset/time.Second)); err != nil {
		return undo(fmt.Errorf("set recovery actions: %w", err))
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil && !wineSCM {
		return undo(fmt.Errorf("set recovery on errors: %w", err))
	}
	if err := eventlog.InstallAsEventCreate(EventSource, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil && !isExists(err) {
		return undo(fmt.Errorf("register event source %s: %w", EventSource, err))
	}
	return nil
}

// isExists reports whether err says a registry key is already there (an
// event source left by an earlier install).
func isExists(err error) bool {
	return errors.Is(err, windows.ERROR_ALREADY_EXISTS) || (err != nil && strings.HasSuffix(err.Error(), "registry key already exists"))
}

// Uninstall stops the service if it runs, deletes it and removes its event
// source.
func Uninstall() error {
	err := withService(func(s *mgr.Service) error {
		if st, err := s.Query(); err == nil && st.State != svc.Stopped {
			if err := stopAndWait(s); err != nil {
				return err
			}
		}
		if err := s.Delete(); err != nil {
			return fmt.Errorf("delete service %s: %w", Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := eventlog.Remove(EventSource); err != nil {
		return fmt.Errorf("remove event source %s: %w", EventSource, err)
	}
	return nil
}

// Start starts the service and waits until it runs (or stops again).
func Start() error {
	return withService(func(s *mgr.Service) error {
		if err := s.Start(); err != nil {
			return fmt.Errorf("start service %s: %w", Name, err)
		}
		st, err := waitWhile(s, svc.StartPending)
		if err != nil {
			return err
		}
		if st.State != svc.Running {
			return fmt.Errorf("service %s stopped at start (exit code %d): see the Application event log, source %s, and %s", Name, st.ServiceSpecificExitCode, EventSource, LogDir())
		}
		return nil
	})
}

// Stop asks the service to stop and waits until it has.
func Stop() error {
	return withService(stopAndWait)
}

func stopAndWait(s *mgr.Service) error {
	if _, err := s.Control(svc.Stop); err != nil {
		return fmt.Errorf("stop service %s: %w", Name, err)
	}
	_, err := waitWhile(s, svc.StopPending, svc.Running)
	return err
}

// Status reports the service's state.
func Status() (State, error) {
	var out State
	err := withService(func(s *mgr.Service) error {
		st, err := s.Query()
		if err != nil {
			return fmt.Errorf("query service %s: %w", Name, err)
		}
		cfg, err := readConfig(s)
		if err != nil {
			return fmt.Errorf("read service %s: %w", Name, err)
		}
		out = State{Installed: true, State: stateName(st.State), PID: st.ProcessId, CommandLine: cfg.binaryPath,
			StartType: startName(cfg.startType, cfg.delayed), ExitCode: st.ServiceSpecificExitCode}
		return nil
	})
	if errors.Is(err, errNotInstalled) {
		return State{}, nil
	}
	return out, err
}

var errNotInstalled = errors.New("not installed")

// serviceConfig is what Status shows of the service's configuration.
type serviceConfig struct {
	binaryPath, displayName string
	startType               uint32
	delayed                 bool
}

// readConfig reads the service's configuration: what mgr.Service.Config
// reads, less what Status does not show, and a delayed start that the
// SCM cannot tell (Wine's) reads as not delayed.
func readConfig(s *mgr.Service) (serviceConfig, error) {
	n := uint32(1024)
	var p *windows.QUERY_SERVICE_CONFIG
	for {
		b := make([]byte, n)
		p = (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&b[0]))
		err := windows.QueryServiceConfig(s.Handle, p, n, &n)
		if err == nil {
			break
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || n <= uint32(len(b)) {
			return serviceConfig{}, err
		}
	}
	cfg := serviceConfig{binaryPath: windows.UTF16PtrToString(p.BinaryPathName), displayName: windows.UTF16PtrToString(p.DisplayName), startType: p.StartType}
	var d windows.SERVICE_DELAYED_AUTO_START_INFO
	var need uint32
	err := windows.QueryServiceConfig2(s.Handle, windows.SERVICE_CONFIG_DELAYED_AUTO_START_INFO, (*byte)(unsafe.Pointer(&d)), uint32(unsafe.Sizeof(d)), &need)
	switch {
	case err == nil:
		cfg.delayed = d.IsDelayedAutoStartUp != 0
	case !errors.Is(err, windows.ERROR_INVALID_LEVEL):
		return serviceConfig{}, err
	}
	return cfg, nil
}

func withService(fn func(*mgr.Service) error) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service control manager (install, uninstall, start and stop need an elevated prompt): %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(Name)
	if err != nil {
		return fmt.Errorf("service %s: %w: install it with \"reconciler service install\"", Name, errNotInstalled)
	}
	defer s.Close()
	return fn(s)
}

// waitWhile polls the service's state while it is one of states, for as
// long as the service reports progress (its wait hint) and at most five
// minutes.
func waitWhile(s *mgr.Service, states ...svc.State) (svc.Status, error) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		st, err := s.Query()
		if err != nil {
			return st, fmt.Errorf("query service %s: %w", Name, err)
		}
		if !containsState(states, st.State) {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("service %s still %s after 5 minutes", Name, stateName(st.State))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func containsState(states []svc.State, s svc.State) bool {
	for _, x := range states {
		if x == s {
			return true
		}
	}
	return false
}

func stateName(s svc.State) string {
	switch s {
	case svc.Stopped:
		return "stopped"
	case svc.StartPending:
		return "starting"
	case svc.StopPending:
		return "stopping"
	case svc.Running:
		return "running"
	case svc.ContinuePending:
		return "continuing"
	case svc.PausePending:
		return "pausing"
	case svc.Paused:
		return "paused"
	}
	return fmt.Sprintf("state %d", s)
}

func startName(t uint32, delayed bool) string {
	switch {
	case t == mgr.StartAutomatic && delayed:
		return "automatic (delayed start)"
	case t == mgr.StartAutomatic:
		return "automatic"
	case t == mgr.StartManual:
		return "manual"
	case t == mgr.StartDisabled:
		return "disabled"
	}
	return fmt.Sprintf("start type %d", t)
}

// Run runs run under the SCM until it returns or the SCM asks the
// service to stop (a stop, or a system shutdown): then run's context is
// cancelled, as SIGTERM cancels it on a console, and Run waits for it,
// telling the SCM it is still stopping every StopReport. It reports
// StartPending, Running, StopPending in turn, and exits with code 1 (a
// failure: the SCM applies Recovery) when run returns an error. stopped
// is called with run's error before the SCM is told the service stopped.
func Run(run func(ctx context.Context) error, stopped func(error)) error {
	h := &handler{run: run, stopped: stopped}
	if err := svc.Run(Name, h); err != nil {
		return fmt.Errorf("run as service %s: %w", Name, err)
	}
	return h.err
}

type handler struct {
	run     func(context.Context) error
	stopped func(error)
	err     error
}

// Execute is the service's life as svc.Handler.
func (h *handler) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.run(ctx) }()
	running := svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	status <- running
	var report <-chan time.Time
	checkpoint := uint32(0)
	for {
		select {
		case err := <-done:
			h.err = err
			if h.stopped != nil {
				h.stopped(err)
			}
			if err != nil {
				return true, 1
			}
			return false, 0
		case <-report:
			checkpoint++
			status <- svc.Status{State: svc.StopPending, CheckPoint: checkpoint, WaitHint: uint32(StopWaitHint / time.Millisecond)}
		case r := <-requests:
			switch r.Cmd {
			case svc.Interrogate:
				status <- r.CurrentStatus
			case svc.Stop, svc.Shutdown:
				if report == nil {
					checkpoint++
					status <- svc.Status{State: svc.StopPending, CheckPoint: checkpoint, WaitHint: uint32(StopWaitHint / time.Millisecond)}
					cancel()
					t := time.NewTicker(StopReport)
					defer t.Stop()
					report = t.C
				}
			}
		}
	}
}

// EventLog writes events to the Windows Event Log under EventSource.
type EventLog struct{ l *eventlog.Log }

// OpenEventLog opens the event source (registered by Install).
func OpenEventLog() (*EventLog, error) {
	l, err := eventlog.Open(EventSource)
	if err != nil {
		return nil, fmt.Errorf("open event log source %s: %w", EventSource, err)
	}
	return &EventLog{l: l}, nil
}

// Write writes e.
func (e *EventLog) Write(ev Event) error {
	switch ev.Level {
	case Error:
		return e.l.Error(ev.ID, ev.Message)
	case Warning:
		return e.l.Warning(ev.ID, ev.Message)
	}
	return e.l.Info(ev.ID, ev.Message)
}

// Close closes the event log.
func (e *EventLog) Close() error { return e.l.Close() }
