package driver

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/reconciler/reconciler/spec"
)

// DescribeCheck names a health check's kind and target for errors and
// logs: `exec ["cmd" "/c" "exit 0"]`, `tcp port 80`, `http /healthz:80`;
// "no health check" when hc defines none.
func DescribeCheck(hc spec.Healthcheck) string {
	switch {
	case len(hc.Exec) > 0:
		quoted := make([]string, len(hc.Exec))
		for i, a := range hc.Exec {
			quoted[i] = strconv.Quote(a)
		}
		return "exec [" + strings.Join(quoted, " ") + "]"
	case hc.TCP != 0:
		return fmt.Sprintf("tcp port %d", hc.TCP)
	case hc.HTTP != (spec.HTTPCheck{}):
		path := hc.HTTP.Path
		if path == "" {
			path = "/"
		}
		return fmt.Sprintf("http %s:%d", path, hc.HTTP.Port)
	}
	return "no health check"
}
