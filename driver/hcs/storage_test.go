package hcs

import (
	"slices"
	"strings"
	"testing"
)

func TestCheckDataDirFilesystem(t *testing.T) {
	tests := []struct {
		fsType  string
		wantErr bool
	}{
		{"NTFS", false},
		{"ReFS", true},
		{"REFS", true},
		{" refs ", true},
		{"FAT32", false}, // not moby's concern either; HCS reports it at create
	}
	for _, tt := range tests {
		t.Run(tt.fsType, func(t *testing.T) {
			err := checkDataDirFilesystem(`D:\reconciler`, tt.fsType)
			if (err != nil) != tt.wantErr {
				t.Fatalf("checkDataDirFilesystem(%q) = %v, wantErr %v", tt.fsType, err, tt.wantErr)
			}
			if err != nil {
				for _, want := range []string{`D:\reconciler`, "ReFS", "NTFS", "--data-dir"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("message %q does not say %q", err, want)
					}
				}
			}
		})
	}
}

// TestLayerPrivileges pins the privilege sets against moby's
// (graphdriver/windows writeLayer enables security, backup and restore).
func TestLayerPrivileges(t *testing.T) {
	for _, p := range []string{"SeSecurityPrivilege", "SeBackupPrivilege", "SeRestorePrivilege"} {
		if !slices.Contains(importPrivileges, p) {
			t.Errorf("importPrivileges %v lacks %s", importPrivileges, p)
		}
	}
	for _, p := range []string{"SeBackupPrivilege", "SeRestorePrivilege"} {
		if !slices.Contains(destroyPrivileges, p) {
			t.Errorf("destroyPrivileges %v lacks %s", destroyPrivileges, p)
		}
	}
}
