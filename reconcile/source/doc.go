// Package source turns places where operators declare containers (a watched
// folder, a git repository) into full desired sets for the agent.
//
// A source is level-based: Run only says "look again" (it never says what
// changed), and Snapshot always returns the full desired set of the source
// (a spec.Set), even an empty one. The sources satisfy reconcile.Source,
// which reconcile declares; this package never imports reconcile (the
// planner must not link go-git) nor a driver: of this module it imports
// spec and internal helpers only.
package source
