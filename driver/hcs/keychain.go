package hcs

import (
	"fmt"
	"os"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// configKeychain resolves registry credentials from one docker-style
// config.json (auths, credsStore, credHelpers). Credentials never appear in
// its errors or in logs.
type configKeychain struct {
	file *configfile.ConfigFile
}

// loadKeychain reads the registry config at path. An empty path means
// anonymous pulls only: the agent never picks up a user's ambient docker
// login by accident.
func loadKeychain(path string) (authn.Keychain, error) {
	if path == "" {
		return authn.NewMultiKeychain(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("registry config: %w", err)
	}
	defer f.Close()
	cf, err := config.LoadFromReader(f)
	if err != nil {
		// The decoder's error names a position, never the file's content.
		return nil, fmt.Errorf("registry config %s: %w", path, err)
	}
	return configKeychain{file: cf}, nil
}

// Resolve implements authn.Keychain: the registry's entry, Docker Hub under
// its historical key, anonymous when the config has nothing for it.
func (k configKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	key := r.RegistryStr()
	if key == name.DefaultRegistry {
		key = authn.DefaultAuthKey
	}
	ac, err := k.file.GetAuthConfig(key)
	if err != nil {
		return nil, fmt.Errorf("registry credentials for %s: %w", r.RegistryStr(), err)
	}
	cfg := authn.AuthConfig{
		Username:      ac.Username,
		Password:      ac.Password,
		Auth:          ac.Auth,
		IdentityToken: ac.IdentityToken,
		RegistryToken: ac.RegistryToken,
	}
	if cfg == (authn.AuthConfig{}) {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(cfg), nil
}
