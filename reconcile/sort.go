package reconcile

import (
	"cmp"
	"slices"
)

// kindOrder puts removals before recreates before creates within a name.
var kindOrder = map[ActionKind]int{ActionRemove: 0, ActionRecreate: 1, ActionCreate: 2}

func sortActions(actions []Action) {
	slices.SortFunc(actions, func(a, b Action) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]); c != 0 {
			return c
		}
		return cmp.Compare(firstID(a), firstID(b))
	})
}

// firstID orders two removals of one name (duplicates) by system ID.
func firstID(a Action) string {
	if len(a.remove) == 0 {
		return ""
	}
	return a.remove[0].ID
}
