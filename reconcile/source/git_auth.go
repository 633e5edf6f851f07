package source

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/reconciler/reconciler/internal/regularfile"
)

// gitEndpoint is the parsed repository URL.
type gitEndpoint struct {
	// url is given to go-git for network operations. It never holds a
	// password; only an ssh URL keeps its user name (not a secret, and
	// go-git's ssh-agent default needs it). It is never stored or shown.
	url     string
	display string // for String, logs and the cache's git config: no user info
	user    string // user name from the URL, "" if none
	kind    string // "http" (http/https), "ssh", "git" or "file"
	shallow bool   // the transport can fetch shallow
	// plainHTTP is an http:// URL: a token would cross the network in clear.
	plainHTTP bool
}

// Where credentials go instead of the URL.
const (
	credentialHint = "put the token in a file (--git-token-file) or in $" + EnvGitToken
	sshKeyHint     = "ssh authenticates with a key: give its file with --git-ssh-key or $" + EnvGitSSHKey
)

// parseGitEndpoint checks a repository URL. A URL carrying a password (or,
// for git:// and file://, any user info) is refused: credentials go in files
// or the environment. No error message repeats the URL's user info.
func parseGitEndpoint(raw string) (gitEndpoint, error) {
	if strings.TrimSpace(raw) == "" {
		return gitEndpoint{}, fmt.Errorf("%w: no repository URL", ErrGitConfig)
	}
	shown := redactURL(raw)
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		if shown != raw {
			// The parser's reason quotes pieces of the URL, password included.
			return gitEndpoint{}, fmt.Errorf("%w: invalid repository URL %s; user info is refused in any URL anyway: %s", ErrGitConfig, shown, credentialHint)
		}
		return gitEndpoint{}, fmt.Errorf("%w: invalid repository URL: %v", ErrGitConfig, err)
	}
	display := *ep
	display.User, display.Password = "", ""
	out := gitEndpoint{url: raw, display: display.String(), user: ep.User}
	scpLike := ep.Protocol == "ssh" && !schemeRe.MatchString(raw)
	if ep.Password != "" || scpLike && strings.Contains(ep.User, ":") {
		hint := credentialHint
		if ep.Protocol == "ssh" {
			hint = sshKeyHint
		}
		return gitEndpoint{}, fmt.Errorf("%w: repository URL %s carries a password: %s", ErrGitConfig, shown, hint)
	}
	switch ep.Protocol {
	case "http", "https":
		// The user name, if any, goes in the auth header with the token.
		out.kind, out.shallow, out.url = "http", true, out.display
		out.plainHTTP = ep.Protocol == "http"
	case "ssh":
		out.kind, out.shallow = "ssh", true
	case "git", "file":
		if ep.User != "" {
			return gitEndpoint{}, fmt.Errorf("%w: repository URL %s: a %s:// URL takes no user info", ErrGitConfig, shown, ep.Protocol)
		}
		// go-git serves file:// through git-upload-pack, or its own server,
		// which cannot send shallow packs: a refused shallow fetch falls
		// back to a full one (see GitSource.fetch).
		out.kind, out.shallow = ep.Protocol, true
		if ep.Protocol == "file" {
			out.display = ep.Path
			if p, ok := driveLetterPath(ep.Path); ok && runtime.GOOS == "windows" {
				// file:///C:/repo is C:\repo; go-git would look for \C:\repo.
				out.url, out.display = p, p
			}
		}
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
	// secrets are the token last read and its basic-auth header value
	// (base64 of user:token), replaced by *** in errors.
	secrets [2]string
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
		if err := checkHTTPToken(opts, ep, c.tokenFile != "" || c.useEnvToken); err != nil {
			return c, err
		}
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

// checkHTTPToken enforces where an http(s) token may come from and go: from
// the credential source only (a user name in the URL without one is taken
// for a token, as in https://TOKEN@host/x.git), and never over plain
// http:// unless opts.AllowInsecureHTTP.
func checkHTTPToken(opts GitOptions, ep gitEndpoint, hasToken bool) error {
	if ep.user != "" && !hasToken {
		return fmt.Errorf("%w: repository URL %s carries user info but no token is given: a token never goes in the URL; %s (a user name in an https URL is only used together with such a token)",
			ErrGitConfig, redactURL(opts.URL), credentialHint)
	}
	if hasToken && ep.plainHTTP && !opts.AllowInsecureHTTP {
		from := "--git-token-file"
		if opts.TokenFile == "" {
			from = "$" + EnvGitToken
		}
		return fmt.Errorf("%w: the token (from %s) would cross the network unencrypted to %s: use https://, or accept it with --allow-insecure-http",
			ErrGitConfig, from, ep.display)
	}
	return nil
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
		user := c.user
		if user == "" {
			user = "x-access-token"
		}
		c.secrets = [2]string{token, base64.StdEncoding.EncodeToString([]byte(user + ":" + token))}
		return &githttp.BasicAuth{Username: user, Password: token}, nil
	case c.kind == "ssh" && c.sshKeyFile != "":
		user := c.user
		if user == "" {
			user = "git"
		}
		pem, err := regularfile.Read(c.sshKeyFile, maxSecretFile)
		if err != nil {
			return nil, fmt.Errorf("%w: ssh key: %v", ErrGitConfig, err)
		}
		keys, err := gitssh.NewPublicKeys(user, pem, "")
		if err != nil {
			return nil, fmt.Errorf("%w: ssh key %s: %v", ErrGitConfig, c.sshKeyFile, err)
		}
		var files []string
		if c.knownHostsFile != "" {
			if err := regularfile.Check(c.knownHostsFile); err != nil {
				return nil, fmt.Errorf("%w: known hosts: %v", ErrGitConfig, err)
			}
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

// maxSecretFile bounds a token, key or keyring file: anything larger is
// not one.
const maxSecretFile = 1 << 20

// token reads the token from its file or the environment.
func (c *gitCredentials) token() (string, error) {
	if c.tokenFile == "" {
		t := strings.TrimSpace(os.Getenv(EnvGitToken))
		if t == "" {
			return "", fmt.Errorf("%w: %s is empty", ErrGitConfig, EnvGitToken)
		}
		return t, nil
	}
	b, err := regularfile.Read(c.tokenFile, maxSecretFile)
	if err != nil {
		return "", fmt.Errorf("%w: token file: %v", ErrGitConfig, err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("%w: token file %s is empty", ErrGitConfig, c.tokenFile)
	}
	return t, nil
}

// redact returns err with the user info of any URL in its message, the
// token and any authorization header value replaced by ***; errors.Is
// still sees err's class. Every go-git error passes through it before it
// is returned, logged or shown.
func (c *gitCredentials) redact(err error) error {
	return redactError(err, c.secrets[:]...)
}

// loadKeyring reads armored OpenPGP public keys. Errors are ErrGitConfig.
func loadKeyring(file string) (string, error) {
	b, err := regularfile.Read(file, maxSecretFile)
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

// driveLetterPath turns the path of a file:///C:/dir URL, "/C:/dir", into
// the Windows path C:\dir. ok is false for a path without a drive letter.
func driveLetterPath(urlPath string) (path string, ok bool) {
	p, ok := strings.CutPrefix(urlPath, "/")
	if !ok || len(p) < 2 || p[1] != ':' || !('a' <= p[0]|0x20 && p[0]|0x20 <= 'z') || len(p) > 2 && p[2] != '/' {
		return "", false
	}
	if len(p) == 2 {
		p += "/"
	}
	return strings.ReplaceAll(p, "/", `\`), true
}
