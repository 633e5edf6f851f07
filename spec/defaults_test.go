package spec

import (
	"reflect"
	"testing"
)

func TestApplyDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   ContainerSpec
		want ContainerSpec
	}{
		{
			name: "empty fields get their defaults",
			in:   ContainerSpec{Ports: []Port{{HostPort: 80, ContainerPort: 80}}},
			want: ContainerSpec{
				Isolation: IsolationDefault, RestartPolicy: RestartAlways,
				Ports:   []Port{{HostPort: 80, ContainerPort: 80, Protocol: "tcp"}},
				Network: Network{Mode: "nat"},
			},
		},
		{
			name: "explicit values are kept",
			in: ContainerSpec{
				Isolation: IsolationHyperV, RestartPolicy: RestartNever,
				Ports:   []Port{{HostPort: 53, ContainerPort: 53, Protocol: "udp"}},
				Network: Network{Mode: "transparent"},
			},
			want: ContainerSpec{
				Isolation: IsolationHyperV, RestartPolicy: RestartNever,
				Ports:   []Port{{HostPort: 53, ContainerPort: 53, Protocol: "udp"}},
				Network: Network{Mode: "transparent"},
			},
		},
		{
			name: "invalid values are left for Validate",
			in:   ContainerSpec{Isolation: "vm", RestartPolicy: "sometimes"},
			want: ContainerSpec{Isolation: "vm", RestartPolicy: "sometimes", Network: Network{Mode: "nat"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Container{Spec: tt.in}
			c.ApplyDefaults()
			if !reflect.DeepEqual(c.Spec, tt.want) {
				t.Errorf("ApplyDefaults = %+v, want %+v", c.Spec, tt.want)
			}
			c.ApplyDefaults()
			if !reflect.DeepEqual(c.Spec, tt.want) {
				t.Errorf("ApplyDefaults twice = %+v, want %+v", c.Spec, tt.want)
			}
		})
	}
}
