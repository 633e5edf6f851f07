// Package errclass names the class of an error, so that a failure is
// logged when it starts, when its class changes and when it ends, never
// because only its wording changed (STYLE.md lesson 17). It imports the
// standard library only.
package errclass

import "errors"

// Other is the class of an error that is none of the classes asked about.
const Other = "other"

// Of returns the message of the first of classes that err is (errors.Is),
// Other when it is none of them, and "" for a nil err: comparing two
// results tells whether a failure started, changed class or ended.
func Of(err error, classes ...error) string {
	if err == nil {
		return ""
	}
	for _, c := range classes {
		if errors.Is(err, c) {
			return c.Error()
		}
	}
	return Other
}
