package source

import (
	"io/fs"
	"syscall"
)

// fileIdent is what a stat says about a file's identity besides its size
// and mtime: a file renamed over another has a new inode, and a write that
// restores the mtime (touch -r, tar, rsync -t) still moves the change
// time.
type fileIdent struct {
	dev, ino uint64
	ctimeSec int64
	ctimeNs  int64
}

// identOf returns the identity of a stat'ed file (zero when the stat does
// not carry it).
func identOf(fi fs.FileInfo) fileIdent {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileIdent{}
	}
	return fileIdent{dev: uint64(st.Dev), ino: uint64(st.Ino), ctimeSec: int64(st.Ctim.Sec), ctimeNs: int64(st.Ctim.Nsec)} //nolint:unconvert // int32 on some platforms
}
