package winsvc

import (
	"io"
	"path/filepath"

	"gopkg.in/natefinch/lumberjack.v2"
)

// LogFileName is the service's log file in its log folder (LogDir).
const LogFileName = "reconciler.log"

// The log file's rotation: a file is rotated at LogMaxMB megabytes; the
// rotated ones (reconciler-<time>.log) are kept LogKeep at most, and
// LogMaxAgeDays days at most. So the folder stays under about
// (LogKeep+1) × LogMaxMB.
const (
	LogMaxMB      = 20
	LogKeep       = 10
	LogMaxAgeDays = 30
)

// LogFile returns the rotating log file in dir: it is created (with its
// folder) at the first write, and rotated by size. Close it when done.
func LogFile(dir string) io.WriteCloser {
	return &lumberjack.Logger{
		Filename:   filepath.Join(dir, LogFileName),
		MaxSize:    LogMaxMB,
		MaxBackups: LogKeep,
		MaxAge:     LogMaxAgeDays,
		LocalTime:  false,
	}
}
