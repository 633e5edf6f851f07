package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// flags is a command's flag set shaped like watch's, and where its values
// land.
type flags struct {
	fs       *pflag.FlagSet
	dirs     []string
	owner    string
	resync   time.Duration
	parallel int
	dryRun   bool
}

func newFlags(t *testing.T, args ...string) *flags {
	t.Helper()
	f := &flags{fs: pflag.NewFlagSet("watch", pflag.ContinueOnError)}
	f.fs.StringArrayVar(&f.dirs, "dir", nil, "")
	f.fs.StringVar(&f.owner, "owner", "reconciler", "")
	f.fs.DurationVar(&f.resync, "resync", 30*time.Second, "")
	f.fs.IntVar(&f.parallel, "parallel", 4, "")
	f.fs.BoolVar(&f.dryRun, "dry-run", false, "")
	f.fs.String("git-token-file", "", "")
	f.fs.String("config", "", "")
	f.fs.StringArray("notify", nil, "the command line's targets")
	if err := f.fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		args []string
		in   string
		// want are the flag values after Apply.
		wantDirs     []string
		wantOwner    string
		wantResync   time.Duration
		wantParallel int
		wantDryRun   bool
		wantNotify   []NotifyTarget
		wantErr      []string
	}{
		{name: "good", in: `
dir: ['C:\manifests', 'D:\more']
owner: web
resync: 5m
parallel: 8
dry-run: true
notify:
  - {type: teams, url: 'https://example.invalid/hook'}
`, wantDirs: []string{`C:\manifests`, `D:\more`}, wantOwner: "web", wantResync: 5 * time.Minute, wantParallel: 8, wantDryRun: true,
			wantNotify: []NotifyTarget{{Type: "teams", URL: "https://example.invalid/hook"}}},
		{name: "empty file: the defaults", in: "# nothing yet\n",
			wantOwner: "reconciler", wantResync: 30 * time.Second, wantParallel: 4},
		{name: "flags override the file", args: []string{"--owner", "cli", "--dir", "/cli"}, in: "owner: file\ndir: [/file]\nparallel: 2\n",
			wantDirs: []string{"/cli"}, wantOwner: "cli", wantResync: 30 * time.Second, wantParallel: 2},
		{name: "unknown key, did you mean", in: "owner: web\nresyn: 5m\n",
			wantErr: []string{`reconciler.yaml:2: resyn: unknown field "resyn"; did you mean "resync"?`}},
		{name: "every problem at once", in: "ownr: a\nparallel: four\n",
			wantErr: []string{`reconciler.yaml:1: ownr: unknown field "ownr"; did you mean "owner"?`, `reconciler.yaml:2: parallel: must be a whole number, not "four"`}},
		{name: "wrong type: a folder is a list", in: "dir: /srv\n", wantErr: []string{"reconciler.yaml:1: dir: must be a list"}},
		{name: "YAML 1.1 boolean refused", in: "dry-run: yes\n", wantErr: []string{`reconciler.yaml:1: dry-run: "yes" is a boolean only to YAML 1.1 tools; write true`}},
		{name: "value the flag refuses, at its line", in: "owner: a\nresync: 5\n", wantErr: []string{`reconciler.yaml:2: resync: time: missing unit in duration "5"`}},
		{name: "double-quoted Windows path", in: "dir: [\"C:\\new\"]\n", wantErr: []string{"reconciler.yaml:1: dir[0]: holds the control character LF"}},
		{name: "a secret is refused, the file key named", in: "git-token: abc\n",
			wantErr: []string{`reconciler.yaml:1: git-token: unknown field "git-token": secrets are never kept in the config file; put it in a file only the agent can read and name that file with one of git-token-file`}},
		{name: "excluded flag is no key", in: "config: other.yaml\n", wantErr: []string{`reconciler.yaml:1: config: unknown field "config"`}},
		{name: "notify: bad type and relative url", in: "notify:\n  - type: email\n    url: /hook\n",
			wantErr: []string{`reconciler.yaml:2: notify[0].type: "email" is not a notification type: use one of webhook, teams, slack`, "reconciler.yaml:3: notify[0].url: must be an absolute http or https URL"}},
		{name: "notify: unknown field", in: "notify:\n  - {type: slack, urll: 'https://x.invalid'}\n",
			wantErr: []string{`reconciler.yaml:2: notify[0].urll: unknown field "urll"; did you mean "url"?`}},
		{name: "notify: credentials in the url refused, not shown", in: "notify:\n  - {type: webhook, url: 'https://u:hunter2@x.invalid/'}\n",
			wantErr: []string{"reconciler.yaml:2: notify[0].url: must not carry a user or password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "reconciler.yaml")
			if err := os.WriteFile(path, []byte(tt.in), 0o600); err != nil {
				t.Fatal(err)
			}
			f := newFlags(t, tt.args...)
			file, err := Load(path, f.fs)
			if err == nil {
				err = file.Apply(f.fs)
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				got := strings.Split(strings.ReplaceAll(err.Error(), path, "reconciler.yaml"), "\n")
				if len(got) != len(tt.wantErr) {
					t.Fatalf("errors:\n%s\nwant %d", strings.Join(got, "\n"), len(tt.wantErr))
				}
				for i := range got {
					if !strings.HasPrefix(got[i], tt.wantErr[i]) {
						t.Errorf("error %d = %q, want prefix %q", i, got[i], tt.wantErr[i])
					}
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error shows a password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.dirs, tt.wantDirs) || f.owner != tt.wantOwner || f.resync != tt.wantResync || f.parallel != tt.wantParallel || f.dryRun != tt.wantDryRun {
				t.Errorf("flags dir=%q owner=%q resync=%s parallel=%d dry-run=%t, want %q %q %s %d %t",
					f.dirs, f.owner, f.resync, f.parallel, f.dryRun, tt.wantDirs, tt.wantOwner, tt.wantResync, tt.wantParallel, tt.wantDryRun)
			}
			if !reflect.DeepEqual(file.Notify, tt.wantNotify) {
				t.Errorf("notify = %+v, want %+v", file.Notify, tt.wantNotify)
			}
		})
	}
}

// TestKeysAreTheFlags: every flag of the command is a key, under its long
// name, without the excluded ones; notify is the file's list.
func TestKeysAreTheFlags(t *testing.T) {
	f := newFlags(t)
	file, err := Parse(nil, "empty.yaml", f.fs)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dir", "dry-run", "git-token-file", "owner", "parallel", "resync", "notify"}
	if got := file.Keys(); !reflect.DeepEqual(got, want) {
		t.Errorf("keys %q, want %q", got, want)
	}
}

func TestLoadRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{dir, filepath.Join(dir, "missing.yaml")} {
		if _, err := Load(path, newFlags(t).fs); err == nil {
			t.Errorf("Load(%s): no error", path)
		}
	}
}
