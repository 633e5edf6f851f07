package source

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// gitEndpoint is the parsed repository URL.
type gitEndpoint struct {
	url     string // given to go-git
	display string // for String and logs: no user info
	user    string // user name from the URL, "" if none
	kind    string // "http" (http/https), "ssh", "git" or "file"
	shallow bool   // the transport can fetch shallow
}

// userinfoRe finds the user info of a URL that does not parse.
var userinfoRe = regexp.MustCompile(`://[^/@]*@`)

// parseGitEndpoint checks a repository URL. A URL carrying a password is
// refused (credentials go in files or the environment); no error message
// repeats the password.
func parseGitEndpoint(raw string) (gitEndpoint, error) {
	if strings.TrimSpace(raw) == "" {
		return gitEndpoint{}, fmt.Errorf("%w: no repository URL", ErrGitConfig)
	}
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		shown := userinfoRe.ReplaceAllString(raw, "://")
		return gitEndpoint{}, fmt.Errorf("%w: invalid repository URL %q", ErrGitConfig, shown)
	}
	display := *ep
	display.User, display.Password = "", ""
	out := gitEndpoint{url: raw, display: display.String(), user: ep.User}
	if ep.Password != "" {
		return gitEndpoint{}, fmt.Errorf("%w: repository URL %s carries a password: put the token in a file (--git-token-file) or %s", ErrGitConfig, out.display, EnvGitToken)
	}
	switch ep.Protocol {
	case "http", "https":
		out.kind, out.shallow = "http", true
	case "ssh":
		out.kind, out.shallow = "ssh", true
	case "git":
		out.kind, out.shallow = "git", true
	case "file":
		// go-git serves file:// through git-upload-pack, or its own
		// server, which cannot send shallow packs; a local copy is cheap.
		out.kind = "file"
		out.display = ep.Path
	default:
		return gitEndpoint{}, fmt.Errorf("%w: repository URL %s: unsupported scheme %q", ErrGitConfig, out.display, ep.Protocol)
	}
	return out, nil
}

// gitCredentials finds the credentials of one source. Files are read again
// at every network operation, so rotated tokens and keys are picked up.
type gitCredentials struct {
	kind           string
	user           string
	tokenFile      string // "" with useEnvToken: the token is in EnvGitToken
	useEnvToken    bool
	sshKeyFile     string
	knownHostsFile string
	// secret is the token last read, replaced by *** in errors.
	secret string
}

// loadGitCredentials resolves options and environment and checks, by
// building the auth method once, that the files are readable and valid.
// Errors are ErrGitConfig and never contain a credential.
func loadGitCredentials(opts GitOptions, ep gitEndpoint) (gitCredentials, error) {
	c := gitCredentials{kind: ep.kind, user: ep.user, tokenFile: opts.TokenFile,
		sshKeyFile: opts.SSHKeyFile, knownHostsFile: opts.KnownHostsFile}
	if c.tokenFile != "" && ep.kind != "http" {
		return c, fmt.Errorf("%w: a token file is for https URLs, not %s", ErrGitConfig, ep.display)
	}
	if c.sshKeyFile != "" && ep.kind != "ssh" {
		return c, fmt.Errorf("%w: an SSH key is for ssh URLs, not %s", ErrGitConfig, ep.display)
	}
	switch ep.kind {
	case "http":
		c.useEnvToken = c.tokenFile == "" && os.Getenv(EnvGitToken) != ""
	case "ssh":
		if c.sshKeyFile == "" {
			c.sshKeyFile = os.Getenv(EnvGitSSHKey)
		}
		if c.knownHostsFile == "" {
			c.knownHostsFile = os.Getenv(EnvGitKnownHosts)
		}
	}
	_, err := c.auth()
	return c, err
}

// auth builds the transport auth method; nil means anonymous (or, for ssh
// without a key, go-git's ssh-agent default with known_hosts checking).
func (c *gitCredentials) auth() (transport.AuthMethod, error) {
	switch {
	case c.kind == "http" && (c.tokenFile != "" || c.useEnvToken):
		token, err := c.token()
		if err != nil {
			return nil, err
		}
		c.secret = token
		user := c.user
		if user == "" {
			user = "x-access-token"
		}
		return &githttp.BasicAuth{Username: user, Password: token}, nil
	case c.kind == "ssh" && c.sshKeyFile != "":
		user := c.user
		if user == "" {
			user = "git"
		}
		keys, err := gitssh.NewPublicKeysFromFile(user, c.sshKeyFile, "")
		if err != nil {
			return nil, fmt.Errorf("%w: ssh key %s: %v", ErrGitConfig, c.sshKeyFile, err)
		}
		var files []string
		if c.knownHostsFile != "" {
			files = []string{c.knownHostsFile}
		}
		cb, err := gitssh.NewKnownHostsCallback(files...)
		if err != nil {
			return nil, fmt.Errorf("%w: known_hosts (set --git-known-hosts or %s): %v", ErrGitConfig, EnvGitKnownHosts, err)
		}
		keys.HostKeyCallback = cb
		return keys, nil
	}
	return nil, nil
}

// token reads the token from its file or the environment.
func (c *gitCredentials) token() (string, error) {
	if c.tokenFile == "" {
		t := strings.TrimSpace(os.Getenv(EnvGitToken))
		if t == "" {
			return "", fmt.Errorf("%w: %s is empty", ErrGitConfig, EnvGitToken)
		}
		return t, nil
	}
	b, err := os.ReadFile(c.tokenFile)
	if err != nil {
		return "", fmt.Errorf("%w: token file: %v", ErrGitConfig, err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("%w: token file %s is empty", ErrGitConfig, c.tokenFile)
	}
	return t, nil
}

// redact returns err with the token, if it appears, replaced by ***. The
// result keeps err's class for errors.Is.
func (c *gitCredentials) redact(err error) error {
	if err == nil || c.secret == "" || !strings.Contains(err.Error(), c.secret) {
		return err
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), c.secret, "***"), err: err}
}

// redactedError is an error whose message had a credential removed.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }

// Is keeps the wrapped error's class without exposing its message.
func (e redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// loadKeyring reads armored OpenPGP public keys. Errors are ErrGitConfig.
func loadKeyring(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%w: signature keyring: %v", ErrGitConfig, err)
	}
	keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("%w: signature keyring %s: %v", ErrGitConfig, file, err)
	}
	if len(keys) == 0 {
		return "", fmt.Errorf("%w: signature keyring %s holds no key", ErrGitConfig, file)
	}
	return string(b), nil
}

// verifyCommit checks that c carries an OpenPGP signature by a key of the
// armored keyring. Errors are ErrGitSignature.
func verifyCommit(c *object.Commit, keyring string) error {
	if c.PGPSignature == "" {
		return fmt.Errorf("%w: commit %s is not signed", ErrGitSignature, short(c.Hash))
	}
	if _, err := c.Verify(keyring); err != nil {
		return fmt.Errorf("%w: commit %s is not signed by a trusted key: %v", ErrGitSignature, short(c.Hash), err)
	}
	return nil
}
