package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// The build's facts, set by a release build with
//
//	-ldflags "-X main.version=v1.2.3 -X main.commit=<sha> -X main.date=<RFC 3339>"
//
// When they are empty, the go command's own stamp of the build answers:
// the module version (go install …@v1.2.3) and the VCS revision, time and
// modified flag (a build from a clone).
var version, commit, date string

// versionInfo is what `reconciler version` and --version print.
type versionInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Date     string `json:"date,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// buildVersion puts together the build's facts: the -ldflags values first,
// then what the go command stamped in info (nil when the binary has none).
func buildVersion(info *debug.BuildInfo) versionInfo {
	v := versionInfo{Version: version, Commit: commit, Date: date,
		Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info != nil {
		if v.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if v.Commit == "" {
					v.Commit = s.Value
				}
			case "vcs.time":
				if v.Date == "" {
					v.Date = s.Value
				}
			case "vcs.modified":
				v.Modified = v.Modified || (s.Value == "true" && commit == "")
			}
		}
		if info.GoVersion != "" {
			v.Go = info.GoVersion
		}
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	return v
}

// String is the one line of text output:
// "reconciler v1.2.3 (commit 0126ecd, 2026-12-02T02:50:00Z) go1.26.8 windows/amd64".
func (v versionInfo) String() string {
	var facts []string
	if v.Commit != "" {
		c := "commit " + v.Commit[:min(len(v.Commit), 12)]
		if v.Modified {
			c += " with local changes"
		}
		facts = append(facts, c)
	}
	if v.Date != "" {
		facts = append(facts, v.Date)
	}
	s := "reconciler " + v.Version
	if len(facts) > 0 {
		s += " (" + strings.Join(facts, ", ") + ")"
	}
	return s + " " + v.Go + " " + v.Platform
}

// currentVersion is this binary's versionInfo.
func currentVersion() versionInfo {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = nil
	}
	return buildVersion(info)
}

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of reconciler, the commit and date it was built from, and its platform",
		Long: `Print the version of reconciler: the release version, the commit and date of the
source it was built from (stamped by a release build, or by the go command in a
build from a clone), the Go version and the platform. -o json prints the same as
one JSON object. reconciler --version prints the text line too.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := currentVersion()
			if g.data() {
				return g.writeData(v)
			}
			_, err := fmt.Fprintln(g.stdout, v)
			return err
		},
	}
}
