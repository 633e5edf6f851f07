package spec

import (
	"reflect"
	"strings"
	"testing"
)

// healthcheck is a manifest with the lines of a healthcheck under spec,
// from line 8.
func healthcheck(lines ...string) string {
	return manifest("  healthcheck:\n" + indent(lines))
}

// indent writes lines four spaces in, one a line.
func indent(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

// TestParseRollout covers every rule of healthcheck, update, restartLimit
// and a dependsOn entry on its own: each refusal at its line and field,
// with the fix.
func TestParseRollout(t *testing.T) {
	tests := []parseCase{
		// healthcheck: the kinds.
		{name: "exec check with every timing field", yaml: healthcheck(`exec: [cmd, /c, "exit 0"]`, "interval: 5s", "timeout: 2s", "retries: 3", "startPeriod: 20s")},
		{name: "tcp check", yaml: healthcheck("tcp: 80")},
		{name: "http check", yaml: healthcheck("http: {path: /healthz, port: 80}")},
		{name: "two kinds", yaml: healthcheck("exec: [cmd, /c, exit 0]", "tcp: 80"),
			want: []want{{"spec.healthcheck.tcp", 9, "exec is already the check; a healthcheck is exactly one of exec, tcp or http: keep one"}}},
		{name: "three kinds", yaml: healthcheck("http: {path: /, port: 80}", "tcp: 80", "exec: [cmd]"),
			want: []want{{"spec.healthcheck.http", 8, "exec is already"}, {"spec.healthcheck.tcp", 9, "exec is already"}}},
		{name: "timing without a check", yaml: healthcheck("interval: 5s", "retries: 2"),
			want: []want{{"spec.healthcheck", 7, "sets interval, retries but no check; add one of exec (a command), tcp (a port) or http ({path, port}), or remove healthcheck"}}},
		{name: "empty healthcheck", yaml: manifest("  healthcheck: {}\n"),
			want: []want{{"spec.healthcheck", 7, "declares no check; write one of exec"}}},
		{name: "empty exec", yaml: healthcheck("exec: []"),
			want: []want{{"spec.healthcheck.exec", 8, `is empty; write the command to run inside the container, such as [cmd, /c, "exit 0"]`}}},
		{name: "empty exec entry", yaml: healthcheck("exec: [cmd, '']"),
			want: []want{{"spec.healthcheck.exec[1]", 8, "exec entries must not be empty"}}},
		{name: "exec over the command line limit", yaml: healthcheck("exec: [cmd, /c, '" + strings.Repeat("x", maxCommandLine) + "']"),
			want: []want{{"spec.healthcheck.exec", 8, "Windows limits a command line to 32767"}}},
		{name: "exec as a string", yaml: healthcheck("exec: cmd /c exit 0"),
			want: []want{{"spec.healthcheck.exec", 8, "must be a list"}}},

		// healthcheck: ports and paths.
		{name: "healthcheck of tcp 0", yaml: manifest("  healthcheck: {tcp: 0}\n"),
			want: []want{{"spec.healthcheck.tcp", 7, "0 is no port"}}},
		{name: "tcp 0", yaml: healthcheck("tcp: 0", "interval: 5s"),
			want: []want{{"spec.healthcheck.tcp", 8, "0 is no port; write the container port to connect to (1 to 65535), or remove tcp"}}},
		{name: "tcp over 65535", yaml: healthcheck("tcp: 70000"),
			want: []want{{"spec.healthcheck.tcp", 8, "must be between 1 and 65535 (the container port to connect to), not 70000"}}},
		{name: "negative tcp", yaml: healthcheck("tcp: -80"),
			want: []want{{"spec.healthcheck.tcp", 8, "must be between 1 and 65535"}}},
		{name: "tcp as a string", yaml: healthcheck("tcp: '80'"),
			want: []want{{"spec.healthcheck.tcp", 8, "remove the quotes"}}},
		{name: "http without a port", yaml: healthcheck("http: {path: /healthz}"),
			want: []want{{"spec.healthcheck.http.port", 8, "must be between 1 and 65535 (the container port to GET from), not 0"}}},
		{name: "http port 0", yaml: healthcheck("http:", "  path: /healthz", "  port: 0"),
			want: []want{{"spec.healthcheck.http.port", 10, "must be between 1 and 65535"}}},
		{name: "http without a path", yaml: healthcheck("http: {port: 80}"),
			want: []want{{"spec.healthcheck.http.path", 8, "is required: the path to GET, such as /healthz"}}},
		{name: "http path without a slash", yaml: healthcheck("http: {path: healthz, port: 80}"),
			want: []want{{"spec.healthcheck.http.path", 8, `"healthz" must start with '/', such as /healthz`}}},
		{name: "empty http", yaml: healthcheck("http: {}"),
			want: []want{{"spec.healthcheck.http", 8, "is empty; write the path and port to GET, such as {path: /healthz, port: 80}"}}},
		{name: "http url", yaml: healthcheck("http: {url: 'http://localhost/healthz'}"),
			want: []want{{"spec.healthcheck.http.url", 8, `unknown field "url"; valid fields: path, port`}}},

		// healthcheck: timing.
		{name: "durations of several units", yaml: healthcheck("tcp: 80", "interval: 1m30s", "timeout: 1.5s", "startPeriod: 500ms")},
		{name: "startPeriod 0s", yaml: healthcheck("tcp: 80", "startPeriod: 0s")},
		{name: "interval without a unit", yaml: healthcheck("tcp: 80", "interval: 5"),
			want: []want{{"spec.healthcheck.interval", 9, `"5" has no unit; write 5s (or another unit: ms, m, h)`}}},
		{name: "startPeriod 0 without a unit", yaml: healthcheck("tcp: 80", "startPeriod: 0"),
			want: []want{{"spec.healthcheck.startPeriod", 9, `"0" has no unit; write 0s`}}},
		{name: "duration in words", yaml: healthcheck("tcp: 80", "timeout: 5 seconds"),
			want: []want{{"spec.healthcheck.timeout", 9, `"5 seconds" is not a duration: write a number and a unit (ms, s, m or h), such as 500ms, 5s, 2m or 1m30s`}}},
		{name: "duration in days", yaml: healthcheck("tcp: 80", "interval: 1d"),
			want: []want{{"spec.healthcheck.interval", 9, `"1d" is not a duration`}}},
		{name: "negative duration", yaml: healthcheck("tcp: 80", "interval: -5s"),
			want: []want{{"spec.healthcheck.interval", 9, `"-5s" is negative; a duration must be more than 0`}}},
		{name: "zero interval", yaml: healthcheck("tcp: 80", "interval: 0s"),
			want: []want{{"spec.healthcheck.interval", 9, `"0s" is no time at all; a duration here must be more than 0`}}},
		{name: "zero timeout", yaml: healthcheck("tcp: 80", "timeout: 0ms"),
			want: []want{{"spec.healthcheck.timeout", 9, "must be more than 0"}}},
		{name: "duration too long", yaml: healthcheck("tcp: 80", "interval: 3000000h"),
			want: []want{{"spec.healthcheck.interval", 9, `"3000000h" is too long`}}},
		{name: "empty interval", yaml: healthcheck("tcp: 80", "interval: ''"),
			want: []want{{"spec.healthcheck.interval", 9, "is empty; write a duration such as 5s, or remove it for the default (10s)"}}},
		{name: "null interval is unset", yaml: healthcheck("tcp: 80", "interval:")},
		{name: "retries 0", yaml: healthcheck("tcp: 80", "retries: 0"),
			want: []want{{"spec.healthcheck.retries", 9, "0 would read as the default (3); write 1 or more, or remove it"}}},
		{name: "negative retries", yaml: healthcheck("tcp: 80", "retries: -1"),
			want: []want{{"spec.healthcheck.retries", 9, "must be 1 or more (failed checks in a row that make the container unhealthy), not -1"}}},

		// update.
		{name: "update", yaml: manifest("  update: {strategy: startFirst, progressDeadline: 2m, autoRollback: false}\n")},
		{name: "update recreate", yaml: manifest("  update: {strategy: recreate}\n")},
		{name: "unknown strategy", yaml: manifest("  update: {strategy: rolling}\n"),
			want: []want{{"spec.update.strategy", 7, `must be one of recreate, startFirst, not "rolling"`}}},
		{name: "strategy in another case", yaml: manifest("  update:\n    strategy: startfirst\n"),
			want: []want{{"spec.update.strategy", 8, `did you mean "startFirst"?`}}},
		{name: "empty strategy", yaml: manifest("  update: {strategy: ''}\n"),
			want: []want{{"spec.update.strategy", 7, "is empty; write recreate or startFirst, or remove it for the default (recreate)"}}},
		{name: "zero progressDeadline", yaml: manifest("  update:\n    progressDeadline: 0s\n"),
			want: []want{{"spec.update.progressDeadline", 8, "must be more than 0"}}},
		{name: "progressDeadline without a unit", yaml: manifest("  update:\n    progressDeadline: 120\n"),
			want: []want{{"spec.update.progressDeadline", 8, `"120" has no unit; write 120s`}}},
		{name: "autoRollback yes", yaml: manifest("  update: {autoRollback: yes}\n"),
			want: []want{{"spec.update.autoRollback", 7, `"yes" is a boolean only to YAML 1.1 tools; write true`}}},

		// restartLimit.
		{name: "restartLimit", yaml: manifest("  restartLimit: {maxRestarts: 5, window: 10m}\n")},
		{name: "restartLimit on-failure", yaml: manifest("  restartPolicy: on-failure\n  restartLimit: {maxRestarts: 1, window: 1h}\n")},
		{name: "maxRestarts without window", yaml: manifest("  restartLimit:\n    maxRestarts: 5\n"),
			want: []want{{"spec.restartLimit.maxRestarts", 8, "needs a window: add the time in which at most 5 restarts are allowed, such as window: 10m"}}},
		{name: "window without maxRestarts", yaml: manifest("  restartLimit:\n    window: 10m\n"),
			want: []want{{"spec.restartLimit.window", 8, "needs maxRestarts: add how many restarts are allowed within 10m, such as maxRestarts: 5"}}},
		{name: "maxRestarts 0", yaml: manifest("  restartLimit:\n    maxRestarts: 0\n    window: 10m\n"),
			want: []want{{"spec.restartLimit.maxRestarts", 8, "0 would read as no limit; write 1 or more (to never restart, write restartPolicy: never instead)"}}},
		{name: "negative maxRestarts", yaml: manifest("  restartLimit: {maxRestarts: -1, window: 10m}\n"),
			want: []want{{"spec.restartLimit.maxRestarts", 7, "must be 1 or more (restarts allowed within window), not -1"}}},
		{name: "zero window", yaml: manifest("  restartLimit:\n    maxRestarts: 3\n    window: 0s\n"),
			want: []want{{"spec.restartLimit.window", 9, "must be more than 0"}}},
		{name: "window without a unit", yaml: manifest("  restartLimit:\n    maxRestarts: 3\n    window: 600\n"),
			want: []want{{"spec.restartLimit.window", 9, `"600" has no unit; write 600s`}}},
		{name: "restartLimit with restartPolicy never", yaml: manifest("  restartPolicy: never\n  restartLimit: {maxRestarts: 5, window: 10m}\n"),
			want: []want{{"spec.restartLimit", 8, "would never apply: restartPolicy is never, so the agent never restarts this container; remove restartLimit, or set restartPolicy to always or on-failure"}}},

		// dependsOn, entry by entry.
		{name: "dependsOn", yaml: manifest("  dependsOn:\n    - {name: db, condition: healthy}\n    - name: cache\n    - {name: queue, condition: started}\n")},
		{name: "dependency not a name", yaml: manifest("  dependsOn:\n    - name: cache\n    - name: DB_1\n"),
			want: []want{{"spec.dependsOn[1].name", 9, `"DB_1" is not a container name: a name must be a DNS label`}}},
		{name: "dependency on itself", yaml: manifest("  dependsOn:\n    - name: web\n"),
			want: []want{{"spec.dependsOn[0].name", 8, "web cannot depend on itself; remove this entry"}}},
		{name: "dependency listed twice", yaml: manifest("  dependsOn:\n    - name: db\n    - {name: db, condition: healthy}\n"),
			want: []want{{"spec.dependsOn[1].name", 9, "db is already listed at spec.dependsOn[0]; list each container once"}}},
		{name: "dependency without a name", yaml: manifest("  dependsOn:\n    - {condition: healthy}\n"),
			want: []want{{"spec.dependsOn[0].name", 8, "is required: the name of a container of the same desired set"}}},
		{name: "unknown condition", yaml: manifest("  dependsOn:\n    - {name: db, condition: ready}\n"),
			want: []want{{"spec.dependsOn[0].condition", 8, `must be one of started, healthy, not "ready"`}}},
		{name: "empty condition", yaml: manifest("  dependsOn:\n    - name: db\n      condition: ''\n"),
			want: []want{{"spec.dependsOn[0].condition", 9, "is empty; write started or healthy, or remove it for the default (started)"}}},
		{name: "dependency misspelt", yaml: manifest("  dependsOn:\n    - {name: db, conditon: healthy}\n"),
			want: []want{{"spec.dependsOn[0].conditon", 8, `unknown field "conditon"`}}},
		{name: "dependsOn as names", yaml: manifest("  dependsOn: [db]\n"),
			want: []want{{"spec.dependsOn[0]", 7, "must be a mapping with the fields name, condition"}}},
	}
	checkParseCases(t, tests)
}

// TestParseRolloutKeepsDefaultsOut: what a manifest leaves out stays out
// of the parsed spec (the accessors of update.go fill the defaults), so
// plans and hashes are those of before.
func TestParseRolloutKeepsDefaultsOut(t *testing.T) {
	cs, ps := Parse(strings.NewReader(healthcheck("tcp: 80")+"  update: {}\n  dependsOn: [{name: db}]\n"), "m.yaml")
	if len(ps) > 0 || len(cs) != 1 {
		t.Fatalf("Parse: %d containers, problems:\n%s", len(cs), renderProblems(ps))
	}
	s := cs[0].Spec
	if !reflect.DeepEqual(s.Healthcheck, Healthcheck{TCP: 80}) || s.Update.AutoRollback != nil || s.Update.Strategy != "" || s.DependsOn[0].Condition != "" || s.RestartLimit != (RestartLimit{}) {
		t.Errorf("defaults written into the spec: %+v", s)
	}
	if got, want := s.Hash(), (ContainerSpec{Image: s.Image, Isolation: s.Isolation, RestartPolicy: s.RestartPolicy, Network: s.Network}).Hash(); got != want {
		t.Errorf("hash with rollout fields %s, without %s: they must be outside the hash", got, want)
	}
}
