package spec

import (
	"fmt"
	"strings"
)

// checkHostPorts returns, in order, the containers that publish no host
// port another container of cs publishes too, and one problem per such
// port naming every container and place that publishes it, placed at the
// first. Each container of a conflict is dropped: which one was meant is
// unknown, and the host would refuse the second create with the port taken.
// (Two ports of one container are validate's business.)
func checkHostPorts(cs []Container) ([]Container, []Problem) {
	type key struct {
		port  int
		proto string
	}
	type use struct{ container, port int }
	uses := make(map[key][]use)
	var order []key
	for i, c := range cs {
		for j, p := range c.Spec.Ports {
			k := key{p.HostPort, orDefault(p.Protocol, defaultProtocol)}
			if k.port == 0 {
				continue
			}
			if len(uses[k]) == 0 {
				order = append(order, k)
			}
			if u := uses[k]; len(u) == 0 || u[len(u)-1].container != i {
				uses[k] = append(uses[k], use{i, j})
			}
		}
	}
	dropped := make(map[int]bool)
	var problems []Problem
	for _, k := range order {
		u := uses[k]
		if len(u) < 2 {
			continue
		}
		where := make([]string, len(u))
		for n, x := range u {
			dropped[x.container] = true
			c := cs[x.container]
			where[n] = fmt.Sprintf("%s (%s, spec.ports[%d])", c.Metadata.Name, c.Origin, x.port)
		}
		first := cs[u[0].container]
		problems = append(problems, Problem{
			File: first.Origin.File, Line: first.Origin.Line, Name: first.Metadata.Name,
			Field: fmt.Sprintf("spec.ports[%d].hostPort", u[0].port),
			Message: fmt.Sprintf("host port %d/%s is published by %d containers: %s; a host port can be published by one container only: change all but one",
				k.port, k.proto, len(u), strings.Join(where, ", ")),
		})
	}
	if len(dropped) == 0 {
		return cs, nil
	}
	kept := make([]Container, 0, len(cs)-len(dropped))
	for i, c := range cs {
		if !dropped[i] {
			kept = append(kept, c)
		}
	}
	return kept, problems
}
