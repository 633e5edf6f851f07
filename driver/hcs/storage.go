package hcs

import (
	"fmt"
	"strings"
)

// Windows privilege names (winio.SeBackupPrivilege and friends; go-winio's
// constants only compile on Windows).
const (
	privilegeBackup   = "SeBackupPrivilege"
	privilegeRestore  = "SeRestorePrivilege"
	privilegeSecurity = "SeSecurityPrivilege"
)

// importPrivileges are enabled while a layer is written. Backup and restore
// let the importer write files whatever their ACLs; security lets it write
// the files' SACLs, which image layers carry. moby's windowsfilter driver
// enables the same three (daemon/graphdriver/windows/windows.go,
// writeLayer); hcsshim's ociwclayer callers that enable only backup and
// restore fail on layers whose files have a SACL.
var importPrivileges = []string{privilegeSecurity, privilegeBackup, privilegeRestore}

// destroyPrivileges are enabled while a layer folder is destroyed: a layer
// holds files whose ACLs deny the agent's own account, which only backup and
// restore semantics can delete.
var destroyPrivileges = []string{privilegeBackup, privilegeRestore}

// checkDataDirFilesystem refuses a data directory on a file system the
// Windows layer store does not support, at start rather than at the first
// create: Windows container layers are not supported on ReFS. moby refuses
// the same way (daemon/graphdriver/windows/windows.go, InitFilter: "ReFS
// volumes are not supported"). fsType is what GetVolumeInformation reports
// ("NTFS", "ReFS").
func checkDataDirFilesystem(dir, fsType string) error {
	if strings.EqualFold(strings.TrimSpace(fsType), "refs") {
		return fmt.Errorf("hcs driver: data directory %s is on an ReFS volume; Windows container layers need NTFS: "+
			"choose a data directory on an NTFS volume with --data-dir", dir)
	}
	return nil
}
