// Package source turns places where operators declare containers (a watched
// folder, a git repository) into full desired sets for the agent.
//
// A source is level-based: Run only says "look again" (it never says what
// changed), and Snapshot always returns the full desired set of the source,
// even an empty one. A source never imports a driver; it imports spec only.
package source
