package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// completeManifestPaths completes PATH arguments: YAML files and folders.
func completeManifestPaths(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
}

// completeContainerNames completes a NAME argument with the names of the
// host's compute systems that start with what is typed (this owner's
// first). A host that cannot be read completes nothing, silently: a
// completion never prints an error into the shell.
func (g *globals) completeContainerNames(cmd *cobra.Command, args []string, typed string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if err := g.setup(); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	d, closeDriver, err := g.openDriver(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer closeDriver()
	systems, err := d.List(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var own, others []string
	for _, s := range systems {
		if !strings.HasPrefix(s.Name, typed) {
			continue
		}
		if s.Owner == g.owner {
			own = append(own, s.Name+"\t"+string(s.Isolation)+", "+string(s.State))
		} else {
			others = append(others, s.Name+"\towner "+s.Owner)
		}
	}
	slices.Sort(own)
	slices.Sort(others)
	return append(own, others...), cobra.ShellCompDirectiveNoFileComp
}
