package source

import (
	"os/exec"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/plumbing/transport/file"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
)

// installFileTransport makes go-git serve file:// remotes through
// fileTransport. go-git's protocol table is process-wide: this affects every
// go-git user of the process, which only gains a fallback.
var installFileTransport = sync.OnceFunc(func() {
	client.InstallProtocol("file", fileTransport{})
})

// fileTransport serves file:// remotes with git-upload-pack when a git
// binary is installed (it sends the remote's existing packs: a 5,000-file
// repository clones about 9 times faster), else with go-git's in-process
// server, so that no git binary is needed at run time.
type fileTransport struct{}

var _ transport.Transport = fileTransport{}

func (fileTransport) pick() transport.Transport {
	if _, err := exec.LookPath("git"); err == nil {
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
