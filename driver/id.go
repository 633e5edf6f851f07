package driver

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// idSeparator joins the parts of a compute system ID. Names are DNS labels,
// owner tokens are hex and hashes are "v1-<hex>", so none contains it.
const idSeparator = "_"

// ownerTokenLen is the length of an owner token in hex digits (48 bits).
const ownerTokenLen = 12

// SystemID is the compute system ID of a managed container:
// "<name>_<owner token>_<spec hash>". The name and spec hash can be read
// back from the live host alone (a lost local cache can never cause a wrong
// decision), and the owner token makes the IDs of two owners that declare
// one name differ. The token is a short hash of the owner, because owner
// strings are arbitrary ("team:web", spaces); ownership itself is read from
// the system's Owner field, never from its ID.
func SystemID(name, owner, specHash string) string {
	return name + idSeparator + ownerToken(owner) + idSeparator + specHash
}

// ownerToken is the part of a SystemID that stands for owner: the first 12
// hex digits of its SHA-256.
func ownerToken(owner string) string {
	sum := sha256.Sum256([]byte(owner))
	return hex.EncodeToString(sum[:])[:ownerTokenLen]
}

// ParseSystemID splits an ID made by SystemID, or of the form
// "<name>_<spec hash>" that builds before owners were part of IDs made (so
// their containers are adopted, not recreated). ok is false for IDs made
// by anything else: a foreign system's ID is its name (docker's 64-hex ID,
// or any ID whose last part is not a "v<N>-…" spec hash).
func ParseSystemID(id string) (name, specHash string, ok bool) {
	parts := strings.Split(id, idSeparator)
	switch {
	case len(parts) == 3 && isOwnerToken(parts[1]):
	case len(parts) == 2:
	default:
		return "", "", false
	}
	name, specHash = parts[0], parts[len(parts)-1]
	if name == "" || !isSpecHash(specHash) {
		return "", "", false
	}
	return name, specHash, true
}

func isOwnerToken(s string) bool {
	if len(s) != ownerTokenLen {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// isSpecHash reports whether s has a spec hash's shape: "v", a version
// number, "-" and something.
func isSpecHash(s string) bool {
	version, rest, ok := strings.Cut(s, "-")
	if !ok || rest == "" || len(version) < 2 || version[0] != 'v' {
		return false
	}
	for _, c := range version[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
