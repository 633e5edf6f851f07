package winsvc

import (
	"reflect"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/wincmd"
)

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name, exe, config, want string
	}{
		{name: "the installer's paths (the contract with the MSI)",
			exe: `C:\Program Files\reconciler\reconciler.exe`, config: `C:\ProgramData\reconciler\reconciler.yaml`,
			want: `"C:\Program Files\reconciler\reconciler.exe" watch --config "C:\ProgramData\reconciler\reconciler.yaml"`},
		{name: "no space: still quoted", exe: `C:\bin\reconciler.exe`, config: `D:\cfg.yaml`,
			want: `"C:\bin\reconciler.exe" watch --config "D:\cfg.yaml"`},
		{name: "trailing backslash doubled", exe: `C:\x\reconciler.exe`, config: `C:\odd dir\`,
			want: `"C:\x\reconciler.exe" watch --config "C:\odd dir\\"`},
		{name: "UNC path", exe: `\\server\share\reconciler.exe`, config: `\\server\share\my config.yaml`,
			want: `"\\server\share\reconciler.exe" watch --config "\\server\share\my config.yaml"`},
		{name: "a quote in a name (not a valid Windows path, still one argument)", exe: `C:\a\r.exe`, config: `C:\we"ird\`,
			want: `"C:\a\r.exe" watch --config "C:\we\"ird\\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CommandLine(tt.exe, tt.config)
			if got != tt.want {
				t.Errorf("CommandLine = %s\nwant          %s", got, tt.want)
			}
			// Windows splits it back into exactly what was meant.
			if args := wincmd.Split(got); !reflect.DeepEqual(args, []string{tt.exe, "watch", "--config", tt.config}) {
				t.Errorf("Windows reads it as %q", args)
			}
		})
	}
}

func TestPaths(t *testing.T) {
	tests := []struct {
		name, programData             string
		wantDir, wantConfig, wantLogs string
	}{
		{name: "default", programData: `C:\ProgramData`,
			wantDir: `C:\ProgramData\reconciler`, wantConfig: `C:\ProgramData\reconciler\reconciler.yaml`, wantLogs: `C:\ProgramData\reconciler\logs`},
		{name: "unset", programData: "",
			wantDir: `C:\ProgramData\reconciler`, wantConfig: `C:\ProgramData\reconciler\reconciler.yaml`, wantLogs: `C:\ProgramData\reconciler\logs`},
		{name: "elsewhere, trailing backslash", programData: `D:\Data\`,
			wantDir: `D:\Data\reconciler`, wantConfig: `D:\Data\reconciler\reconciler.yaml`, wantLogs: `D:\Data\reconciler\logs`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("ProgramData", tt.programData)
			if got := ProgramDataDir(); got != tt.wantDir {
				t.Errorf("ProgramDataDir = %s, want %s", got, tt.wantDir)
			}
			if got := DefaultConfigPath(); got != tt.wantConfig {
				t.Errorf("DefaultConfigPath = %s, want %s", got, tt.wantConfig)
			}
			if got := LogDir(); got != tt.wantLogs {
				t.Errorf("LogDir = %s, want %s", got, tt.wantLogs)
			}
		})
	}
}

// The recovery table: restart after 5 s, 30 s, then every 60 s, the count
// starting over after a day without failure.
func TestRecovery(t *testing.T) {
	want := []time.Duration{5 * time.Second, 30 * time.Second, time.Minute}
	if !reflect.DeepEqual(Recovery, want) || RecoveryReset != 24*time.Hour {
		t.Errorf("Recovery %v reset %s, want %v reset 24h", Recovery, RecoveryReset, want)
	}
	for i := 1; i < len(Recovery); i++ {
		if Recovery[i] < Recovery[i-1] {
			t.Errorf("delay %d (%s) shorter than the one before", i, Recovery[i])
		}
	}
}
