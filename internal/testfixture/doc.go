// Package testfixture holds the fixtures the tests of several packages
// share: a git remote on disk with a working clone that commits to it, the
// manifests the tests feed the agent, the OpenPGP keys that sign commits,
// and the waits that end on an observable, never on a guess at how long it
// takes. It is for tests only.
//
// It imports no package of this module (so any package's tests may import
// it without a cycle): only the standard library, go-git and go-crypto.
package testfixture
