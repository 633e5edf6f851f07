//go:build !linux

package spec

// readManifestData is ReadManifest for a caller that needs only the
// content and its size.
func readManifestData(path string) (int64, []byte, error) {
	return readManifestFallback(path)
}
