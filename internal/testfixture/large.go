package testfixture

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// BuildLargeRemote writes at remote a bare repository of manifests files
// (hosts/hNN/cNNNN.yaml, spread over 50 folders) and commits commits on
// main: the first adds every file, each later one changes the isolation of
// 5 files. It uses git fast-import and a final repack, a few seconds
// instead of minutes; the git binary must be on PATH.
func BuildLargeRemote(remote string, manifests, commits int) error {
	if out, err := gitCmd("", nil, "init", "-q", "--bare", "-b", "main", remote).CombinedOutput(); err != nil {
		return fmt.Errorf("git init: %v\n%s", err, out)
	}
	var s bytes.Buffer
	file := func(i int, isolation string) {
		content := Manifest(fmt.Sprintf("c%04d", i), ServerCore2022, isolation)
		fmt.Fprintf(&s, "M 100644 inline hosts/h%02d/c%04d.yaml\ndata %d\n%s\n", i%50, i, len(content), content)
	}
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for c := range commits {
		msg := fmt.Sprintf("commit %d", c)
		fmt.Fprintf(&s, "commit refs/heads/main\ncommitter Test <test@example.com> %d +0000\ndata %d\n%s\n", when+int64(c), len(msg), msg)
		if c == 0 {
			for i := range manifests {
				file(i, "process")
			}
			continue
		}
		for k := range 5 {
			iso := "process"
			if c%2 == 1 {
				iso = "hyperv"
			}
			file((c*5+k)%manifests, iso)
		}
	}
	if out, err := gitCmd(remote, &s, "fast-import", "--quiet").CombinedOutput(); err != nil {
		return fmt.Errorf("git fast-import: %v\n%s", err, out)
	}
	if out, err := gitCmd(remote, nil, "repack", "-adq").CombinedOutput(); err != nil {
		return fmt.Errorf("git repack: %v\n%s", err, out)
	}
	return nil
}

// gitCmd is the git binary run in dir with GitEnv and stdin.
func gitCmd(dir string, stdin *bytes.Buffer, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), GitEnv...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	return cmd
}
