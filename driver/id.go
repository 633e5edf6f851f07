package driver

import "strings"

// idSeparator joins a container name and its spec hash in a compute system
// ID. Names are DNS labels and hashes are "v1-<hex>", so neither contains it.
const idSeparator = "_"

// SystemID is the compute system ID of a managed container: its name and its
// spec hash, so that both can be read back from the live host alone
// (a lost local cache can never cause a wrong decision).
func SystemID(name, specHash string) string {
	return name + idSeparator + specHash
}

// ParseSystemID splits an ID made by SystemID. ok is false for IDs made by
// anything else (a foreign system's ID is its name).
func ParseSystemID(id string) (name, specHash string, ok bool) {
	name, specHash, ok = strings.Cut(id, idSeparator)
	if !ok || name == "" || specHash == "" {
		return "", "", false
	}
	return name, specHash, true
}
