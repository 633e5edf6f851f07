// Package test holds the end-to-end tests of the built reconciler binary:
// testscript scenarios under testdata/script (one-shot reconcile, dry run,
// validate, status, the emulated host), and Go tests that drive the long
// running agent against real temp folders and real git repositories. They
// never use the network.
package test
