package statusapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/reconciler/reconciler/internal/regularfile"
)

// ErrNotRegular is a secret file that is not a regular file: a FIFO or a
// device would block the read (and the agent's start) or never end it.
var ErrNotRegular = regularfile.ErrNotRegular

// maxSecretFile bounds a secret file: a token is a line, not a document.
const maxSecretFile = 64 << 10

// ReadSecretFile reads the secret in file (what names it in errors: "API
// token", "webhook secret"), without its surrounding white space. Only a
// regular file is opened, and it is checked again once open (a file
// swapped for a FIFO in between is refused, not waited on): see
// regularfile.Read. An empty secret is an error: it would authenticate
// nothing. The secret never appears in an error.
func ReadSecretFile(what, file string) ([]byte, error) {
	secret, err := regularfile.Read(file, maxSecretFile)
	if errors.Is(err, regularfile.ErrTooLarge) {
		return nil, fmt.Errorf("%s file %s is over %d KiB: it should hold one line", what, file, maxSecretFile>>10)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	secret = bytes.TrimSpace(secret)
	if len(secret) == 0 {
		return nil, fmt.Errorf("%s file %s is empty", what, file)
	}
	return secret, nil
}

// ReadWebhookSecret reads the webhook secret from file (ReadSecretFile).
func ReadWebhookSecret(file string) ([]byte, error) { return ReadSecretFile("webhook secret", file) }

// TokenHeader carries the API token of a mutating request, as a bearer
// token: "Authorization: Bearer TOKEN".
const TokenHeader = "Authorization"

// tokenMatches reports, in constant time, whether r carries token. The
// comparison is of SHA-256 digests, so its time tells nothing of the
// token's length either.
func tokenMatches(r *http.Request, token []byte) bool {
	got, ok := strings.CutPrefix(r.Header.Get(TokenHeader), "Bearer ")
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256(token)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
