package source

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
)

// Both ways of serving file:// remotes answer with the remote's refs; the
// in-process one needs no git binary.
func TestFileTransportServesBothWays(t *testing.T) {
	dir := t.TempDir()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "web.yaml"), []byte("kind: Container\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("web.yaml"); err != nil {
		t.Fatal(err)
	}
	head, err := wt.Commit("one", &git.CommitOptions{Author: &object.Signature{Name: "Test", Email: "test@example.com", When: time.Unix(0, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := transport.NewEndpoint(filepath.Join(dir, ".git"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []fileTransport{{useGit: false}, {useGit: true}} {
		t.Run(tr.String(), func(t *testing.T) {
			if tr.useGit && !gitOnPath() {
				t.Skip("no git binary on PATH")
			}
			s, err := tr.NewUploadPackSession(ep, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			adv, err := s.AdvertisedReferencesContext(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			refs, err := adv.AllReferences()
			if err != nil {
				t.Fatal(err)
			}
			if got := refs[plumbing.NewBranchReferenceName("main")]; got == nil || got.Hash() != head {
				t.Errorf("refs/heads/main = %v, want %s", got, head)
			}
		})
	}
}

func TestInstallFileTransportIsOneProcessSetting(t *testing.T) {
	want := FileTransportInProcess
	if gitOnPath() {
		want = FileTransportGit
	}
	first := InstallFileTransport()
	if first != want {
		t.Errorf("InstallFileTransport = %q, want %q (git on PATH: %t)", first, want, gitOnPath())
	}
	if again := InstallFileTransport(); again != first {
		t.Errorf("second call = %q, want the first call's %q", again, first)
	}
	if got, ok := client.Protocols["file"].(fileTransport); !ok || got.String() != first {
		t.Errorf("go-git serves file:// with %T %v, want the installed fileTransport", client.Protocols["file"], client.Protocols["file"])
	}
}

// useFileTransport has go-git serve file:// remotes with tr for the rest of
// the test, which must not run in parallel (go-git's table is
// process-wide).
func useFileTransport(t *testing.T, tr fileTransport) {
	prev := client.Protocols["file"]
	client.InstallProtocol("file", tr)
	t.Cleanup(func() { client.InstallProtocol("file", prev) })
}
