package spec

// OSVersion is a Windows NT 10.0 version: 10.0.Build.Revision. Revision is
// the update build revision (UBR); 0 means unknown/any.
type OSVersion struct {
	Build    uint32 `json:"build"`
	Revision uint32 `json:"revision"`
}

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

// SKU is the host's product type.
type SKU string

// The host SKUs.
const (
	SKUServer SKU = "server"
	SKUClient SKU = "client"
)

// Host is what the version rules need to know of a container host.
type Host struct {
	Build    uint32 `json:"build"`
	Revision uint32 `json:"revision"`
	SKU      SKU    `json:"sku"`
	// HyperV reports whether Hyper-V isolation is available.
	HyperV bool `json:"hyperv"`
}

// Verdict is the outcome of a compatibility check.
type Verdict int

// The verdicts.
const (
	Compatible Verdict = iota
	CompatibleWithWarning
	Incompatible
)

// Compatibility is the outcome of CheckCompatibility.
type Compatibility struct {
	Verdict Verdict
	// Isolation is the effective isolation (never IsolationDefault).
	Isolation Isolation
	// Message explains a warning or a refusal in words an operator can act
	// on: it names both builds and what would work. Empty when Compatible.
	Message string
}
