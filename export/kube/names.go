package kube

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
)

// configMapKey is what a key of a ConfigMap or Secret may hold.
const (
	configMapKeyFmt    = `[-._a-zA-Z0-9]+`
	configMapKeyErrMsg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
	// configMapKeyMaxLength is a DNS-1123 subdomain's.
	configMapKeyMaxLength = 253
)

var configMapKeyRegexp = regexp.MustCompile("^" + configMapKeyFmt + "$")

// isConfigMapKey is k8s.io/apimachinery/pkg/util/validation.IsConfigMapKey,
// with the same messages, on the light content package (util/validation
// links klog and k8s.io/utils into the binary).
func isConfigMapKey(value string) []string {
	var errs []string
	if len(value) > configMapKeyMaxLength {
		errs = append(errs, fmt.Sprintf("must be no more than %d characters", configMapKeyMaxLength))
	}
	if !configMapKeyRegexp.MatchString(value) {
		errs = append(errs, content.RegexError(configMapKeyErrMsg, configMapKeyFmt, "key.name", "KEY_NAME", "key-name"))
	}
	switch {
	case value == ".":
		errs = append(errs, `must not be '.'`)
	case value == "..":
		errs = append(errs, `must not be '..'`)
	case strings.HasPrefix(value, ".."):
		errs = append(errs, `must not start with '..'`)
	}
	return errs
}
