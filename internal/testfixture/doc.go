// Package testfixture holds the fixtures the tests of several packages
// share: a git remote on disk with a working clone that commits to it, and
// the manifests the tests feed the agent. It is for tests only.
//
// It imports no package of this module (so any package's tests may import
// it without a cycle): only the standard library, go-git and go-crypto.
package testfixture
