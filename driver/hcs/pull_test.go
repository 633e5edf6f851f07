package hcs

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// Hosts the tests pull for.
var (
	server2016 = spec.Host{Build: 14393, Revision: 6350, SKU: spec.SKUServer, HyperV: true}
	server2019 = spec.Host{Build: 17763, Revision: 5329, SKU: spec.SKUServer, HyperV: true}
	server1903 = spec.Host{Build: 18362, Revision: 1256, SKU: spec.SKUServer, HyperV: true}
	server2022 = spec.Host{Build: 20348, Revision: 2762, SKU: spec.SKUServer, HyperV: true}
	server2025 = spec.Host{Build: 26100, Revision: 1742, SKU: spec.SKUServer, HyperV: true}
	windows11  = spec.Host{Build: 22631, Revision: 4317, SKU: spec.SKUClient, HyperV: true}
	noHyperV   = spec.Host{Build: 26100, Revision: 1742, SKU: spec.SKUServer}
)

// The os.version of each entry of the synthetic servercore index, as MCR
// lists them: full versions.
const (
	ltsc2019Version = "10.0.17763.5329"
	ltsc2022Version = "10.0.20348.2762"
	ltsc2025Version = "10.0.26100.1742"
)

// testRegistry is an in-process registry on loopback.
type testRegistry struct {
	host string
}

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	srv := httptest.NewServer(registry.New())
	t.Cleanup(srv.Close)
	return &testRegistry{host: strings.TrimPrefix(srv.URL, "http://")}
}

// windowsImage builds a windows/amd64 image of the given layers whose
// config states osVersion (none when empty) and whose cmd is cmd.exe.
func windowsImage(t *testing.T, osVersion string, layers ...v1.Layer) v1.Image {
	t.Helper()
	return imageFor(t, "windows", "amd64", osVersion, layers...)
}

func imageFor(t *testing.T, os, arch, osVersion string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.OSVersion = os, arch, osVersion
	cf.Config.Cmd = []string{`c:\windows\system32\cmd.exe`}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

func randomLayer(t *testing.T) v1.Layer {
	t.Helper()
	l, err := random.Layer(512, types.DockerLayer)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// push writes an image or index to repo:tag and returns the reference.
func (r *testRegistry) push(t *testing.T, repoTag string, v any) string {
	t.Helper()
	ref, err := name.ParseReference(r.host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	switch v := v.(type) {
	case v1.Image:
		err = remote.Write(ref, v)
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, v)
	}
	if err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref.String()
}

// servercoreIndex is a synthetic windows/servercore index: ltsc2019,
// ltsc2022 and ltsc2025 entries plus entries this driver must never pick.
func servercoreIndex(t *testing.T, mediaType types.MediaType) v1.ImageIndex {
	t.Helper()
	entry := func(img v1.Image, os, arch, osVersion string) mutate.IndexAddendum {
		return mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: os, Architecture: arch, OSVersion: osVersion},
		}}
	}
	idx := mutate.IndexMediaType(empty.Index, mediaType)
	return mutate.AppendManifests(idx,
		entry(imageFor(t, "linux", "amd64", "", randomLayer(t)), "linux", "amd64", ""),
		entry(windowsImage(t, ltsc2019Version, randomLayer(t)), "windows", "amd64", ltsc2019Version),
		entry(windowsImage(t, ltsc2022Version, randomLayer(t)), "windows", "amd64", ltsc2022Version),
		entry(imageFor(t, "windows", "arm64", ltsc2025Version, randomLayer(t)), "windows", "arm64", ltsc2025Version),
		entry(windowsImage(t, ltsc2025Version, randomLayer(t)), "windows", "amd64", ltsc2025Version),
	)
}

func newTestPuller(t *testing.T) *imagePuller {
	return &imagePuller{keychain: authn.NewMultiKeychain(), retries: remote.Backoff{Steps: 1}, logger: zaptest.NewLogger(t)}
}

func TestResolveChoosesIndexEntry(t *testing.T) {
	reg := newTestRegistry(t)
	refs := map[string]string{
		"oci":    reg.push(t, "windows/servercore:oci", servercoreIndex(t, types.OCIImageIndex)),
		"docker": reg.push(t, "windows/servercore:docker", servercoreIndex(t, types.DockerManifestList)),
	}
	tests := []struct {
		name      string
		host      spec.Host
		iso       spec.Isolation
		want      string
		wantClass error
	}{
		{"process on Server 2019: exact build", server2019, spec.IsolationProcess, ltsc2019Version, nil},
		{"process on Server 2022: exact build", server2022, spec.IsolationProcess, ltsc2022Version, nil},
		{"process on Server 2025: exact build before stable ABI", server2025, spec.IsolationProcess, ltsc2025Version, nil},
		{"process on Windows 11: stable ABI ltsc2022", windows11, spec.IsolationProcess, ltsc2022Version, nil},
		{"hyperv on Server 2025: newest", server2025, spec.IsolationHyperV, ltsc2025Version, nil},
		{"hyperv on Server 2022: newest not newer", server2022, spec.IsolationHyperV, ltsc2022Version, nil},
		{"hyperv on 1903: ltsc2019", server1903, spec.IsolationHyperV, ltsc2019Version, nil},
		{"default on a server is process", server2022, spec.IsolationDefault, ltsc2022Version, nil},
		{"default on a client is hyperv", windows11, spec.IsolationDefault, ltsc2022Version, nil},
		{"process on 1903: no entry", server1903, spec.IsolationProcess, "", driver.ErrIncompatible},
		{"process on Server 2016: no entry", server2016, spec.IsolationProcess, "", driver.ErrIncompatible},
		{"hyperv on Server 2016: all newer", server2016, spec.IsolationHyperV, "", driver.ErrIncompatible},
		{"hyperv without Hyper-V", noHyperV, spec.IsolationHyperV, "", driver.ErrIncompatible},
	}
	for kind, ref := range refs {
		for _, tt := range tests {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				got, err := newTestPuller(t).resolve(t.Context(), ref, tt.host, tt.iso, spec.ImageVersion{})
				if tt.wantClass != nil {
					if !errors.Is(err, tt.wantClass) {
						t.Fatalf("resolve = %v, want %v", err, tt.wantClass)
					}
					return
				}
				if err != nil {
					t.Fatalf("resolve: %v", err)
				}
				want, _ := spec.ParseOSVersion(tt.want)
				if !got.Version.Known || got.Version.OSVersion != want || got.Version.From != fromImageOSVersion {
					t.Errorf("chose %+v, want %s from the image", got.Version, tt.want)
				}
				cf, err := got.Image.ConfigFile()
				if err != nil || cf.OSVersion != tt.want || cf.OS != "windows" || cf.Architecture != "amd64" {
					t.Errorf("image config %s/%s %s (%v), want windows/amd64 %s", cf.OS, cf.Architecture, cf.OSVersion, err, tt.want)
				}
				if d, _ := got.Image.Digest(); d != got.Digest {
					t.Errorf("Digest = %s, want the chosen image's %s", got.Digest, d)
				}
			})
		}
	}
}

func TestResolveSingleManifest(t *testing.T) {
	reg := newTestRegistry(t)
	linux := reg.push(t, "library/alpine:3", imageFor(t, "linux", "amd64", "", randomLayer(t)))
	stated := reg.push(t, "app:ltsc2022", windowsImage(t, ltsc2019Version, randomLayer(t)))
	silent := reg.push(t, "app:latest", windowsImage(t, "", randomLayer(t)))
	tag2019 := spec.ImageVersion{OSVersion: spec.OSVersion{Build: 17763}, Known: true, From: `tag "ltsc2019"`}
	tests := []struct {
		name      string
		ref       string
		host      spec.Host
		iso       spec.Isolation
		guess     spec.ImageVersion
		want      spec.ImageVersion
		wantClass error
	}{
		{"linux image", linux, server2022, spec.IsolationProcess, spec.ImageVersion{}, spec.ImageVersion{}, driver.ErrIncompatible},
		{"image os.version beats the tag", stated, server2019, spec.IsolationProcess, spec.ImageVersion{OSVersion: spec.OSVersion{Build: 20348}, Known: true},
			spec.ImageVersion{OSVersion: spec.OSVersion{Build: 17763, Revision: 5329}, Known: true, From: fromImageOSVersion}, nil},
		{"image os.version refused", stated, server2022, spec.IsolationProcess, spec.ImageVersion{}, spec.ImageVersion{}, driver.ErrIncompatible},
		{"no os.version: the guess decides", silent, server2019, spec.IsolationProcess, tag2019, tag2019, nil},
		{"no os.version: the guess refuses", silent, server2022, spec.IsolationProcess, tag2019, spec.ImageVersion{}, driver.ErrIncompatible},
		{"nothing known: allowed", silent, server2022, spec.IsolationProcess, spec.ImageVersion{}, spec.ImageVersion{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newTestPuller(t).resolve(t.Context(), tt.ref, tt.host, tt.iso, tt.guess)
			if tt.wantClass != nil {
				if !errors.Is(err, tt.wantClass) {
					t.Fatalf("resolve = %v, want %v", err, tt.wantClass)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if got.Version != tt.want {
				t.Errorf("Version = %+v, want %+v", got.Version, tt.want)
			}
			if len(got.Config.Cmd) != 1 {
				t.Errorf("Config.Cmd = %v, want the image's cmd", got.Config.Cmd)
			}
		})
	}
}

func TestResolveRegistryFailures(t *testing.T) {
	reg := newTestRegistry(t)
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(unavailable.Close)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name          string
		ctx           context.Context
		ref           string
		wantTransient bool
		wantIs        error
	}{
		{"missing image is permanent", t.Context(), reg.host + "/nothing:here", false, nil},
		{"bad reference", t.Context(), "UPPER/case:x", false, nil},
		{"503 is transient", t.Context(), strings.TrimPrefix(unavailable.URL, "http://") + "/x:y", true, nil},
		{"cancelled", cancelled, reg.host + "/nothing:here", false, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newTestPuller(t).resolve(tt.ctx, tt.ref, server2022, spec.IsolationProcess, spec.ImageVersion{})
			if err == nil {
				t.Fatal("resolve succeeded, want an error")
			}
			if errors.Is(err, driver.ErrTransient) != tt.wantTransient {
				t.Errorf("resolve = %v; transient %v, want %v", err, !tt.wantTransient, tt.wantTransient)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("resolve = %v, want %v", err, tt.wantIs)
			}
		})
	}
}

func TestSelectManifestEdgeCases(t *testing.T) {
	win := func(osVersion string) v1.Descriptor {
		return v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 63) + string(rune('0'+len(osVersion)%10))},
			Platform: &v1.Platform{OS: "windows", Architecture: "amd64", OSVersion: osVersion}}
	}
	tests := []struct {
		name      string
		entries   []v1.Descriptor
		host      spec.Host
		iso       spec.Isolation
		want      string
		wantKnown bool
		wantErr   string
	}{
		{"newest revision of the exact build", []v1.Descriptor{win("10.0.20348.100"), win("10.0.20348.2762"), win("10.0.20348.587")},
			server2022, spec.IsolationProcess, "10.0.20348.2762", true, ""},
		{"unparseable os.version ignored", []v1.Descriptor{win("ten"), win(ltsc2022Version)}, server2022, spec.IsolationProcess, ltsc2022Version, true, ""},
		{"unversioned entry as last resort", []v1.Descriptor{win("")}, server2022, spec.IsolationProcess, "", false, ""},
		{"versioned preferred to unversioned", []v1.Descriptor{win(""), win(ltsc2022Version)}, server2022, spec.IsolationProcess, ltsc2022Version, true, ""},
		{"refusal names what is offered", []v1.Descriptor{win(ltsc2025Version), {Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
			server2022, spec.IsolationProcess, "", false, "offers windows/amd64:10.0.26100.1742, linux/amd64"},
		{"no platforms", []v1.Descriptor{{}}, server2022, spec.IsolationProcess, "", false, "lists no platforms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, v, err := selectManifest(tt.entries, tt.host, tt.iso)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, driver.ErrIncompatible) {
					t.Fatalf("err = %v, want ErrIncompatible containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Platform.OSVersion != tt.want || v.Known != tt.wantKnown {
				t.Errorf("chose %q (known %v), want %q (known %v)", got.Platform.OSVersion, v.Known, tt.want, tt.wantKnown)
			}
		})
	}
}
