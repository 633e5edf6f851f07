//go:build !linux && !windows

package source

import "io/fs"

// fileIdent is empty where the stat is not read for a file's identity:
// size and mtime alone (with the racy window) decide.
type fileIdent struct{}

func identOf(fs.FileInfo) fileIdent { return fileIdent{} }
