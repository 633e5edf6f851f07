package source

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func TestDriveLetterPath(t *testing.T) {
	tests := []struct {
		urlPath string
		want    string // "": not a drive-letter path
	}{
		{urlPath: "/C:/repos/app.git", want: `C:\repos\app.git`},
		{urlPath: "/d:/r", want: `d:\r`},
		{urlPath: "/C:", want: `C:\`},
		{urlPath: "/C:/", want: `C:\`},
		{urlPath: "/srv/git/app.git"},
		{urlPath: "/C:repo"},
		{urlPath: "/1:/repo"},
		{urlPath: "C:/repo"},
		{urlPath: "/"},
		{urlPath: ""},
	}
	for _, tt := range tests {
		t.Run(tt.urlPath, func(t *testing.T) {
			got, ok := driveLetterPath(tt.urlPath)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("driveLetterPath(%q) = %q, %v; want %q", tt.urlPath, got, ok, tt.want)
			}
		})
	}
}

// TestGitSourceFileURL: a file:// URL of a repository on this machine is
// followed: file:///srv/app.git on Unix, file:///C:/repos/app.git on
// Windows (the drive after the third slash), where the source shows the
// Windows path. The repository is made in process, without a git binary.
func TestGitSourceFileURL(t *testing.T) {
	work := t.TempDir()
	repo, err := git.PlainInit(work, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "web.yaml"), []byte(manifest("web", "process")), 0o644); err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("web.yaml"); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Reconciler Test", Email: "test@example.com", When: time.Unix(1700000000, 0)}
	commit, err := wt.Commit("web", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}

	gitDir := filepath.Join(work, ".git")
	url := "file://" + filepath.ToSlash(gitDir) // file:///tmp/...
	if runtime.GOOS == "windows" {
		url = "file:///" + filepath.ToSlash(gitDir) // file:///C:/Users/...
	}
	useFileTransport(t, fileTransport{useGit: false})
	g := newTestSource(t, GitOptions{URL: url})
	if want := "git " + gitDir + "@HEAD"; runtime.GOOS == "windows" && g.String() != want {
		t.Errorf("String() = %q, want %q", g.String(), want)
	}
	pollOK(t, g)
	snap, err := g.Snapshot(context.Background())
	if err != nil || snap.Revision != commit.String() || len(snap.Containers) != 1 {
		t.Errorf("Snapshot of %s: revision %s with %d containers (%v), want %s with 1", url, snap.Revision, len(snap.Containers), err, commit)
	}
}
