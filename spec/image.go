package spec

import (
	"fmt"
	"strings"
)

// ImageVersion is what is known of an image's OS version.
type ImageVersion struct {
	OSVersion
	// Known is false when neither the tag, spec.osVersion nor the image's
	// own configuration revealed the build.
	Known bool
	// From says where the version came from, for messages:
	// `tag "ltsc2019"`, "spec.osVersion", "image os.version".
	From string
}

// ImageOSVersion resolves an image's OS version: osVersion (spec.osVersion)
// wins when set, else the image's tag: a release name (ltsc2019, 1809, …)
// or a full version (10.0.17763.5329), also as a token of a longer tag
// ("4.8-windowsservercore-ltsc2019", "ltsc2022-amd64"). A tag that reveals
// nothing, or contradicts itself, gives Known=false, which is not an error.
// The only error is a malformed osVersion; it wraps ErrInvalidOSVersion.
func ImageOSVersion(image, osVersion string) (ImageVersion, error) {
	if osVersion != "" {
		v, err := ParseOSVersion(osVersion)
		if err != nil {
			return ImageVersion{}, fmt.Errorf("spec.osVersion: %w", err)
		}
		return ImageVersion{OSVersion: v, Known: true, From: "spec.osVersion"}, nil
	}
	tag := imageTag(image)
	v, ok := tagOSVersion(tag)
	if !ok {
		return ImageVersion{}, nil
	}
	return ImageVersion{OSVersion: v, Known: true, From: fmt.Sprintf("tag %q", tag)}, nil
}

// imageTag returns the tag of an image reference, "" when it has none:
// the digest goes, and a colon counts only after the last slash (a colon
// before it is a registry port).
func imageTag(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	i := strings.LastIndexByte(image, ':')
	if i < 0 || i < strings.LastIndexByte(image, '/') {
		return ""
	}
	return image[i+1:]
}

// tagOSVersion reads the OS version out of a tag's tokens. Only release
// names and full 10.0.BUILD[.REVISION] versions count, so application
// versions such as "4.8" or "3.1.2" are never misread. Tokens naming
// different builds make the tag say nothing.
func tagOSVersion(tag string) (OSVersion, bool) {
	var found OSVersion
	tokens := strings.FieldsFunc(tag, func(r rune) bool { return r == '-' || r == '_' })
	for _, tok := range tokens {
		v, ok := tokenOSVersion(tok)
		switch {
		case !ok:
			continue
		case found.Build == 0:
			found = v
		case found.Build != v.Build:
			return OSVersion{}, false
		case v.Revision != 0:
			if found.Revision != 0 && found.Revision != v.Revision {
				return OSVersion{}, false
			}
			found.Revision = v.Revision
		}
	}
	return found, found.Build != 0
}

// tokenOSVersion reads one tag token: a release name or a full version.
func tokenOSVersion(tok string) (OSVersion, bool) {
	if r, ok := releaseByName(tok); ok {
		return OSVersion{Build: r.build}, true
	}
	if !strings.HasPrefix(tok, "10.0.") {
		return OSVersion{}, false
	}
	return parseOSVersion(tok)
}
