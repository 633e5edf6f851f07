package spec

import (
	"fmt"
	"reflect"
	"strings"
)

// The sharing Windows containers never support (DESIGN §1), by the field a
// manifest might use to ask for it.
const (
	noSharedMemory = "Windows containers do not support shared memory with the host or other containers (there is no IPC namespace to share); remove this field"
	noSharedSync   = "Windows containers do not support sharing synchronization objects (events, mutexes, semaphores) with the host or other containers; remove this field"
	noSharedPIDs   = "Windows containers do not support shared process namespaces; remove this field"
)

var unsupportedSharing = map[string]string{
	"ipc":                    noSharedMemory,
	"hostIPC":                noSharedMemory,
	"sharedMemory":           noSharedMemory,
	"shmSize":                noSharedMemory,
	"synchronizationObjects": noSharedSync,
	"sharedSyncObjects":      noSharedSync,
	"pid":                    noSharedPIDs,
	"hostPID":                noSharedPIDs,
	"processNamespace":       noSharedPIDs,
	"shareProcessNamespace":  noSharedPIDs,
}

// unknownField explains a field that t does not have.
func unknownField(t reflect.Type, info *structInfo, name string) string {
	if t == specType {
		if msg, ok := unsupportedSharing[name]; ok {
			return msg
		}
	}
	if s := closest(name, info.names); s != "" {
		return fmt.Sprintf("unknown field %q; did you mean %q?", name, s)
	}
	return fmt.Sprintf("unknown field %q; valid fields: %s", name, strings.Join(info.names, ", "))
}

// closest returns the candidate name is most likely a typo of: equal but
// for case, or within two edits (a swap of neighbours is one) and less
// than half the candidate's length. "" when none is.
func closest(name string, candidates []string) string {
	best, bestD := "", 3
	lower := []rune(strings.ToLower(name))
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
		if d := editDistance(lower, []rune(strings.ToLower(c))); d < bestD && 2*d < len(c) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of adjacent runes each cost one.
func editDistance(a, b []rune) int {
	// rows i-2, i-1 and i of the dynamic programme.
	prev2, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
