package main

import (
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/internal/config"
)

// registerConfigFlag gives cmd --config: a file holding its flags (see
// internal/config), read before the command runs.
func registerConfigFlag(cmd *cobra.Command) {
	cmd.Flags().String("config", "", "YAML file holding this command's flags, keys named as the long flags (dir, git, owner, resync, …) plus notify; flags on the command line win")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
	_ = cmd.Flags().SetAnnotation("config", flagsFileAnnotation, []string{"true"})
}

// flagsFileAnnotation marks a --config flag that names a file of the
// command's own flags (not, say, service install's, which names the file
// the service will run from).
const flagsFileAnnotation = "reconciler/flags-file"

// loadConfig reads the file --config names, if the command has the flag
// and it is given, and sets from it every flag the command line did not
// set. It runs before the global flags are checked, so that the file may
// set them too (driver, owner, log-format, …).
func (g *globals) loadConfig(cmd *cobra.Command) error {
	fl := cmd.Flags().Lookup("config")
	if fl == nil || fl.Value.String() == "" || fl.Annotations[flagsFileAnnotation] == nil {
		return nil
	}
	path := fl.Value.String()
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	file, err := config.Load(path, cmd.Flags())
	if err != nil {
		return err
	}
	if err := file.Apply(cmd.Flags()); err != nil {
		return err
	}
	g.config = file
	return nil
}

// notifyTargets are the notification targets of the config file, if one
// was read.
//
// Merge seam: the notifier (package notify, with its --notify flag) sends
// to these; a --notify given on the command line replaces them, as any
// flag wins over the file.
func (g *globals) notifyTargets() []config.NotifyTarget {
	if g.config == nil {
		return nil
	}
	return g.config.Notify
}
