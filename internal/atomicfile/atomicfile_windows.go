//go:build windows

package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// privateSDDL is the security descriptor of a file whose perm gives group
// and others nothing (0o600, 0o400): a protected DACL, so nothing is
// inherited from the folder, granting full access to the file's owner
// (OW, OWNER RIGHTS), LocalSystem (SY) and the Administrators (BA). Mode
// bits mean nothing to Windows; this is what keeps such a file private.
const privateSDDL = "D:P(A;;FA;;;OW)(A;;FA;;;SY)(A;;FA;;;BA)"

// WriteFile replaces path with data: a temporary file beside it is
// written, fsync'd (FlushFileBuffers) and renamed over path (MoveFileEx
// with MOVEFILE_REPLACE_EXISTING), which renameio does not offer on
// Windows. The rename fails while another process holds path open, so
// readers open it briefly or under a lock.
//
// The file gets perm whether or not it existed. When perm gives group and
// others nothing, the temporary file is created with privateSDDL (never
// readable by others, not even before its content is written) and the
// rename carries that descriptor to path. Otherwise the file inherits its
// folder's ACL, and perm only decides the read-only attribute, as
// os.Chmod does.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	tmp, err := createTemp(path, perm.Perm()&0o077 == 0)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename: not found, ignored
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), perm); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// createTemp creates a new file beside path, named .<base>.<random>.tmp,
// with privateSDDL when private, else with the folder's inherited ACL.
func createTemp(path string, private bool) (*os.File, error) {
	if !private {
		return os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	}
	sd, err := windows.SecurityDescriptorFromString(privateSDDL)
	if err != nil {
		return nil, fmt.Errorf("owner-only security descriptor: %w", err)
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	for range 100 {
		var r [6]byte
		rand.Read(r[:])
		name := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+hex.EncodeToString(r[:])+".tmp")
		p, err := windows.UTF16PtrFromString(name)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, sa,
			windows.CREATE_NEW, windows.FILE_ATTRIBUTE_NORMAL, 0)
		if errors.Is(err, windows.ERROR_FILE_EXISTS) {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(h), name), nil
	}
	return nil, &fs.PathError{Op: "createtemp", Path: path, Err: fs.ErrExist}
}

// Private reports whether path is readable by its owner, SYSTEM and the
// Administrators only: no entry of its DACL, inherited or not, allows
// anyone else (a NULL DACL allows everyone), as WriteFile sets it for a
// private perm.
func Private(path string) (bool, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return false, &fs.PathError{Op: "getsecurityinfo", Path: path, Err: err}
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return false, &fs.PathError{Op: "getsecurityinfo", Path: path, Err: err}
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		return false, nil // no DACL, or a NULL one: everyone has access
	}
	for i := range uint32(dacl.AceCount) {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return false, &fs.PathError{Op: "getace", Path: path, Err: err}
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE {
			continue // a deny entry takes nothing away from privacy
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		if !sid.Equals(owner) && !sid.IsWellKnown(windows.WinCreatorOwnerRightsSid) &&
			!sid.IsWellKnown(windows.WinLocalSystemSid) && !sid.IsWellKnown(windows.WinBuiltinAdministratorsSid) {
			return false, nil
		}
	}
	return true, nil
}
