package hcs

import (
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

func TestCreatedWithRoundTrip(t *testing.T) {
	s, clock := newTestStore(t, &dirImporter{})
	full := spec.ContainerSpec{
		Image: "mcr.microsoft.com/windows/servercore:ltsc2022", Isolation: spec.IsolationHyperV,
		Command: []string{"ping", "-t", "localhost"}, WorkingDir: `C:\app`, Env: map[string]string{"LOG_LEVEL": "info"},
		Hostname: "web", RestartPolicy: spec.RestartOnFailure, Resources: spec.Resources{CPUCount: 2, MemoryMB: 1024},
		Mounts:     []spec.Mount{{HostPath: `C:\data`, ContainerPath: `C:\data`, ReadOnly: true}},
		NamedPipes: []spec.NamedPipe{{HostPipe: `\\.\pipe\svc`, ContainerPipe: `\\.\pipe\svc`}},
		Ports:      []spec.Port{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
		Network:    spec.Network{Mode: "nat"}, Devices: []spec.Device{{IDType: "class", ID: "5B45201D-F2F2-4F3B-85BB-30FF1F953599"}},
	}
	tests := []struct {
		name string
		spec spec.ContainerSpec
	}{
		{name: "every field", spec: full},
		{name: "image only", spec: spec.ContainerSpec{Image: "app:latest", OSVersion: "10.0.20348"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			guess, err := spec.ImageOSVersion(tt.spec.Image, tt.spec.OSVersion)
			if err != nil {
				t.Fatal(err)
			}
			req := driver.CreateRequest{Name: "web", Owner: "reconciler", SpecHash: tt.spec.Hash(),
				Isolation: spec.IsolationHyperV, ImageVersion: guess, Spec: tt.spec}
			img := pulledImage{Ref: tt.spec.Image, Digest: v1.Hash{Algorithm: "sha256", Hex: "ab"},
				Version: spec.ImageVersion{OSVersion: spec.OSVersion{Build: 20348, Revision: 2762}, Known: true, From: fromImageOSVersion}}
			id := "web_" + req.SpecHash
			host := spec.Host{Build: 20348, Revision: 2849, SKU: spec.SKUServer, HyperV: true}
			rec := newSystemRecord(id, req, img, host, s.scratchDir(id), clock.now())
			if err := s.writeRecord(rec); err != nil {
				t.Fatal(err)
			}
			got, err := s.createdWith(id)
			if err != nil {
				t.Fatalf("createdWith: %v", err)
			}
			if !reflect.DeepEqual(got, req) {
				t.Errorf("createdWith = %+v\nwant %+v", got, req)
			}
			if got.Spec.Hash() != req.SpecHash {
				t.Errorf("the kept spec hashes to %s, want %s", got.Spec.Hash(), req.SpecHash)
			}
			back, _, err := s.readRecord(id)
			if err != nil || back.OSVersion != "10.0.20348.2762" || back.ImageDigest != "sha256:ab" || !back.Created.Equal(clock.now()) {
				t.Errorf("record %+v (%v): want the image's own version, digest and creation time", back, err)
			}
			if got := back.hostOS(); got != (spec.OSVersion{Build: 20348, Revision: 2849}) {
				t.Errorf("record's host version = %v (%q), want 10.0.20348.2849, the host's at create", got, back.HostOS)
			}
		})
	}
}

func TestRecordHostOS(t *testing.T) {
	tests := []struct {
		name   string
		hostOS string
		want   spec.OSVersion
	}{
		{name: "build and revision", hostOS: "10.0.17763.5329", want: spec.OSVersion{Build: 17763, Revision: 5329}},
		{name: "a record from before it was kept", hostOS: ""},
		{name: "a damaged value is unknown, not an error", hostOS: "10.0.x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (systemRecord{HostOS: tt.hostOS}).hostOS(); got != tt.want {
				t.Errorf("hostOS() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCreatedWithNotFound(t *testing.T) {
	s, _ := newTestStore(t, &dirImporter{})
	// A record an older build wrote: no owner, spec hash or spec.
	old := systemRecord{ID: "old_v1-00", Name: "old", Image: "app:1", Isolation: spec.IsolationProcess,
		Scratch: s.scratchDir("old_v1-00"), Created: time.Now()}
	if err := s.writeRecord(old); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.recordPath("broken_v1-00"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id       string
		notFound bool
	}{
		{id: "never_v1-00", notFound: true},
		{id: "old_v1-00", notFound: true},
		{id: "broken_v1-00"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			_, err := s.createdWith(tt.id)
			if err == nil || errors.Is(err, driver.ErrNotFound) != tt.notFound {
				t.Errorf("createdWith(%s) = %v, want an error (ErrNotFound: %v)", tt.id, err, tt.notFound)
			}
		})
	}
}
