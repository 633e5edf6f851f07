// Package golden compares what a test renders with a golden file, and
// rewrites the file instead when the test runs with -update. It is for
// tests only; each test package declares its own -update flag (a flag
// name is one per test binary) and passes its value in.
//
// It imports only the standard library and go-internal's diff.
package golden
