package source

import (
	"os/exec"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/plumbing/transport/file"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
)

// How InstallFileTransport serves file:// remotes.
const (
	// FileTransportGit: git-upload-pack of the git binary found on PATH,
	// which sends the remote's existing packs (a 5,000-file repository
	// clones about 9 times faster).
	FileTransportGit = "git-upload-pack"
	// FileTransportInProcess: go-git's own server, so that no git binary
	// is needed at run time.
	FileTransportInProcess = "in-process"
)

var installFileTransport = sync.OnceValue(func() string {
	t := fileTransport{useGit: gitOnPath()}
	client.InstallProtocol("file", t)
	return t.String()
})

// InstallFileTransport makes go-git serve file:// remotes (a GitSource
// with a file:// URL or a local path) with or without a git binary: through
// git-upload-pack when git is on PATH at the first call, else in process
// (see FileTransportGit, FileTransportInProcess). It returns that choice.
//
// go-git's protocol table is process-wide, so this is a process setting,
// made by the program's wiring (cmd/reconciler's main) and never by
// constructing a source: without it, go-git serves file:// remotes only
// through a git binary on PATH. It is idempotent and safe for concurrent
// use: the first call decides, later calls return that choice.
func InstallFileTransport() string { return installFileTransport() }

func gitOnPath() bool {
	_, err := exec.LookPath("git")
	return err == nil
}

// fileTransport serves file:// remotes with git-upload-pack when useGit,
// else with go-git's in-process server.
type fileTransport struct{ useGit bool }

var _ transport.Transport = fileTransport{}

func (t fileTransport) String() string {
	if t.useGit {
		return FileTransportGit
	}
	return FileTransportInProcess
}

func (t fileTransport) pick() transport.Transport {
	if t.useGit {
		return file.DefaultClient
	}
	return server.DefaultServer
}

func (t fileTransport) NewUploadPackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.UploadPackSession, error) {
	return t.pick().NewUploadPackSession(ep, auth)
}

func (t fileTransport) NewReceivePackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.ReceivePackSession, error) {
	return t.pick().NewReceivePackSession(ep, auth)
}
