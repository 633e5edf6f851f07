package hcs

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

const secretPassword = "s3cret-p4ss"

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigKeychain(t *testing.T) {
	auth := base64.StdEncoding.EncodeToString([]byte("ci-bot:" + secretPassword))
	path := writeConfig(t, `{"auths": {
		"myregistry.azurecr.io": {"auth": "`+auth+`"},
		"https://index.docker.io/v1/": {"username": "hubuser", "password": "hubpass"},
		"token.example.com": {"identitytoken": "refresh-token"}
	}}`)
	kc, err := loadKeychain(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		registry string
		want     authn.AuthConfig
	}{
		{"auth field", "myregistry.azurecr.io", authn.AuthConfig{Username: "ci-bot", Password: secretPassword}},
		{"docker hub under its historical key", name.DefaultRegistry, authn.AuthConfig{Username: "hubuser", Password: "hubpass"}},
		{"identity token", "token.example.com", authn.AuthConfig{IdentityToken: "refresh-token"}},
		{"unknown registry is anonymous", "mcr.microsoft.com", authn.AuthConfig{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := name.NewRegistry(tt.registry)
			if err != nil {
				t.Fatal(err)
			}
			a, err := kc.Resolve(reg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Authorization()
			if err != nil {
				t.Fatal(err)
			}
			got.Auth = "" // authn may fill it from the username and password
			if *got != tt.want {
				t.Errorf("Authorization = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestLoadKeychainErrors(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{"missing file", filepath.Join(t.TempDir(), "none.json")},
		{"malformed, with a secret in it", writeConfig(t, `{"auths": {"r": {"password": "`+secretPassword+`"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadKeychain(tt.path)
			if err == nil {
				t.Fatal("loadKeychain succeeded, want an error")
			}
			if strings.Contains(err.Error(), secretPassword) {
				t.Errorf("error %q reveals a credential", err)
			}
		})
	}
}

func TestLoadKeychainAnonymousWithoutConfig(t *testing.T) {
	kc, err := loadKeychain("")
	if err != nil {
		t.Fatal(err)
	}
	a, err := kc.Resolve(name.MustParseReference("mcr.microsoft.com/windows/servercore:ltsc2022").Context())
	if err != nil || a != authn.Anonymous {
		t.Errorf("Resolve without a config = %v, %v; want anonymous", a, err)
	}
}
