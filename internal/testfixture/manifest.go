package testfixture

import "fmt"

// ServerCore2022 is the image the manifests name unless told otherwise.
const ServerCore2022 = "mcr.microsoft.com/windows/servercore:ltsc2022"

// Manifest is a valid single-container manifest of seven lines: name,
// image and isolation on lines 4, 6 and 7.
func Manifest(name, image, isolation string) string {
	return fmt.Sprintf("apiVersion: reconciler/v1\nkind: Container\nmetadata:\n  name: %s\nspec:\n  image: %s\n  isolation: %s\n", name, image, isolation)
}

// Manifests maps each name's file, NAME.yaml, to a process-isolated
// ServerCore2022 manifest.
func Manifests(names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, n := range names {
		out[n+".yaml"] = Manifest(n, ServerCore2022, "process")
	}
	return out
}
