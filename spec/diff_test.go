package spec

import (
	"maps"
	"slices"
	"testing"
)

func TestDiff(t *testing.T) {
	base := ContainerSpec{
		Image: "mcr.microsoft.com/windows/servercore:ltsc2019", Isolation: IsolationProcess,
		Command:   []string{"ping", "-t", "localhost"},
		Env:       map[string]string{"ORDERS_DB": "Server=sql01", "LOG": "info", "EMPTY": ""},
		Resources: Resources{MemoryMB: 1536},
		Ports:     []Port{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
		Mounts:    []Mount{{HostPath: `C:\data`, ContainerPath: `C:\data`}},
	}
	tests := []struct {
		name   string
		change func(*ContainerSpec)
		want   []string
	}{
		{name: "same", change: func(*ContainerSpec) {}},
		{name: "isolation alone is not a spec change", change: func(s *ContainerSpec) { s.Isolation = IsolationHyperV }},
		{name: "the issue's example", change: func(s *ContainerSpec) {
			s.Env = map[string]string{"ORDERS_DB": "Server=sql02", "LOG": "info", "EMPTY": ""}
			s.Resources.MemoryMB = 2048
			s.Image = "mcr.microsoft.com/windows/servercore:ltsc2022"
		}, want: []string{"env.ORDERS_DB changed (value hidden)", "image mcr.microsoft.com/windows/servercore:ltsc2019 → mcr.microsoft.com/windows/servercore:ltsc2022", "resources.memoryMB 1536 → 2048"}},
		{name: "env added, removed, emptied", change: func(s *ContainerSpec) {
			s.Env = map[string]string{"ORDERS_DB": "", "DEBUG": "1", "EMPTY": ""}
		}, want: []string{"env.DEBUG added", "env.LOG removed", "env.ORDERS_DB changed (value hidden)"}},
		{name: "an empty value is not an absent one", change: func(s *ContainerSpec) { delete(s.Env, "EMPTY") }, want: []string{"env.EMPTY removed"}},
		{name: "command is one line", change: func(s *ContainerSpec) { s.Command = []string{"ping", "localhost"} },
			want: []string{`command ["ping","-t","localhost"] → ["ping","localhost"]`}},
		{name: "lists by entry", change: func(s *ContainerSpec) {
			s.Ports[0].HostPort = 8081
			s.Mounts = append(s.Mounts, Mount{HostPath: `D:\logs`, ContainerPath: `C:\logs`, ReadOnly: true})
		}, want: []string{`mounts[1] added: {containerPath: C:\logs, hostPath: D:\logs, readOnly: true}`, "ports[0].hostPort 8080 → 8081"}},
		{name: "a list entry removed", change: func(s *ContainerSpec) { s.Ports = nil },
			want: []string{"ports[0] removed (was {containerPort: 80, hostPort: 8080, protocol: tcp})"}},
		{name: "a field emptied", change: func(s *ContainerSpec) { s.Resources = Resources{}; s.WorkingDir = `C:\app` },
			want: []string{`resources.memoryMB removed (was 1536)`, `workingDir added: C:\app`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to := base
			to.Env = maps.Clone(base.Env)
			to.Ports = slices.Clone(base.Ports)
			to.Mounts = slices.Clone(base.Mounts)
			tt.change(&to)
			var got []string
			for _, c := range Diff(base, to) {
				got = append(got, c.String())
				if c.Field[:4] == "env." && (c.From == "Server=sql01" || c.To == "Server=sql02") {
					t.Errorf("%s shows an environment value", c.Field)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Diff =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
