package spec

// The defaults ApplyDefaults fills in.
const (
	defaultProtocol    = "tcp"
	defaultNetworkMode = "nat"
)

// ApplyDefaults fills the defaults of a parsed document in place: isolation
// "" → "default", restartPolicy "" → "always", a port's protocol "" → "tcp"
// and network mode "" → "nat". Explicit values are kept. Idempotent.
//
// The ports slice is modified in place, so a Container copied before
// ApplyDefaults shares its defaulted ports.
func (c *Container) ApplyDefaults() {
	s := &c.Spec
	if s.Isolation == "" {
		s.Isolation = IsolationDefault
	}
	if s.RestartPolicy == "" {
		s.RestartPolicy = RestartAlways
	}
	for i := range s.Ports {
		s.Ports[i].Protocol = orDefault(s.Ports[i].Protocol, defaultProtocol)
	}
	s.Network.Mode = orDefault(s.Network.Mode, defaultNetworkMode)
}

// orDefault returns v, or def when v is empty.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
