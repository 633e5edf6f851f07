package source

import (
	"io/fs"
	"syscall"
)

// fileIdent is what a stat says about a file's identity besides its size
// and mtime: a file renamed over another has its own creation time, unless
// NTFS tunneling (a name reused within 15 s) gave it the old one's. A
// change that keeps size, mtime and creation time is then seen only when
// an event names the file; the rescan does not tell it.
type fileIdent struct {
	created syscall.Filetime
}

// identOf returns the identity of a stat'ed file (zero when the stat does
// not carry it).
func identOf(fi fs.FileInfo) fileIdent {
	d, ok := fi.Sys().(*syscall.Win32FileAttributeData)
	if !ok {
		return fileIdent{}
	}
	return fileIdent{created: d.CreationTime}
}
