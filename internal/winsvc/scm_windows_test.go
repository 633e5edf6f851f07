//go:build windows

package winsvc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// TestMain makes the test binary the service when the SCM starts it (the
// lifecycle test installs it so): it runs until the SCM stops it.
func TestMain(m *testing.M) {
	// The lifecycle test installs this binary with CommandLine's
	// arguments; Wine's SCM starts it so without IsService knowing it
	// (svc.IsWindowsService wants a parent in session 0).
	if IsService() || (len(os.Args) > 1 && os.Args[1] == "watch") {
		err := Run(func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		}, nil)
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// underWine reports whether the test runs under Wine.
func underWine() bool {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `Software\Wine`, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	k.Close()
	return true
}

// TestServiceLifecycle installs, starts, stops and uninstalls the real
// service with this test binary as its program. It changes the host's
// services, so it runs only when asked (RECONCILER_TEST_SCM=1), elevated,
// on a host without a reconciler service; Wine's SCM will do.
func TestServiceLifecycle(t *testing.T) {
	if os.Getenv("RECONCILER_TEST_SCM") == "" {
		t.Skip("installs a Windows service: set RECONCILER_TEST_SCM=1 (elevated, no reconciler service installed)")
	}
	startType := "automatic (delayed start)"
	if underWine() {
		// Wine's SCM refuses a delayed start and the failure actions
		// flag (ERROR_INVALID_LEVEL); the rest is tested as on Windows.
		wineSCM, startType = true, "automatic"
		t.Cleanup(func() { wineSCM = false })
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "my config.yaml")
	if err := Install(exe, config); err != nil {
		t.Fatalf("install: %v", err)
	}
	t.Cleanup(func() {
		if err := Uninstall(); err != nil {
			t.Errorf("uninstall: %v", err)
		}
		if st, err := Status(); err != nil || st.Installed {
			t.Errorf("after uninstall: %+v, %v", st, err)
		}
	})
	if err := Install(exe, config); err == nil {
		t.Error("a second install succeeded")
	}

	st, err := Status()
	if err != nil {
		t.Fatal(err)
	}
	want := State{Installed: true, State: "stopped", StartType: startType, CommandLine: CommandLine(exe, config)}
	if st != want {
		t.Errorf("installed: %+v\nwant       %+v", st, want)
	}
	m, err := mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(Name)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if actions, err := s.RecoveryActions(); underWine() && errors.Is(err, windows.ERROR_INVALID_LEVEL) {
		t.Log("Wine's SCM cannot read recovery actions back: not checked")
	} else {
		checkRecovery(t, s, actions, err)
	}
	if cfg, err := readConfig(s); err != nil || cfg.displayName != DisplayName {
		t.Errorf("display name %q (%v)", cfg.displayName, err)
	}

	if l, err := eventlog.Open(EventSource); err != nil {
		t.Errorf("event source: %v", err)
	} else {
		if err := l.Info(EventStarted, "reconciler lifecycle test"); err != nil {
			t.Errorf("write an event: %v", err)
		}
		l.Close()
	}

	if err := Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	if st, err := Status(); err != nil || st.State != "running" || st.PID == 0 {
		t.Errorf("started: %+v, %v", st, err)
	}
	if err := Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if st, err := Status(); err != nil || st.State != "stopped" || st.ExitCode != 0 {
		t.Errorf("stopped: %+v, %v", st, err)
	}
}

// checkRecovery checks the recovery actions and reset period read back
// from the SCM against Recovery and RecoveryReset.
func checkRecovery(t *testing.T, s *mgr.Service, actions []mgr.RecoveryAction, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var delays []time.Duration
	for _, a := range actions {
		if a.Type != mgr.ServiceRestart {
			t.Errorf("recovery action %+v is not a restart", a)
		}
		delays = append(delays, a.Delay)
	}
	if !slices.Equal(delays, Recovery) {
		t.Errorf("recovery delays %v, want %v", delays, Recovery)
	}
	if reset, err := s.ResetPeriod(); err != nil || reset != uint32(RecoveryReset/time.Second) {
		t.Errorf("reset period %d (%v), want %d", reset, err, RecoveryReset/time.Second)
	}
}
