package kube

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// TestQuantitiesAsKubernetes: the quantities the export writes are
// written as k8s.io/apimachinery's resource.Quantity writes them.
func TestQuantitiesAsKubernetes(t *testing.T) {
	for _, m := range []int64{0, 1, 10, 250, 500, 999, 1000, 1500, 2000, 2500, 12000, 64000, 100000, 1000000, 1500000, 2000000000} {
		if got, want := milliCPU(m), resource.NewMilliQuantity(m, resource.DecimalSI).String(); got != want {
			t.Errorf("milliCPU(%d) = %q, want %q", m, got, want)
		}
	}
	for _, mb := range []int64{0, 1, 64, 512, 1000, 1024, 1536, 2048, 4096, 1 << 20, 3 << 20} {
		b := mb << 20
		if got, want := bytesQuantity(b), resource.NewQuantity(b, resource.BinarySI).String(); got != want {
			t.Errorf("bytesQuantity(%d MB) = %q, want %q", mb, got, want)
		}
	}
}

// TestConfigMapKeyAsKubernetes: isConfigMapKey says what
// k8s.io/apimachinery's validation.IsConfigMapKey says, in its words.
func TestConfigMapKeyAsKubernetes(t *testing.T) {
	long := strings.Repeat("k", 300)
	for _, k := range []string{"LOG_LEVEL", "a.b-c", "", ".", "..", "..x", "a b", "Ä", long, "x/y"} {
		if got, want := isConfigMapKey(k), validation.IsConfigMapKey(k); !slices.Equal(got, want) {
			t.Errorf("isConfigMapKey(%q) = %q, want %q", k, got, want)
		}
	}
}
