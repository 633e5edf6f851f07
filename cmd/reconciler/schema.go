package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/spec"
)

func newSchemaCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of a manifest, for editors that check YAML while it is typed",
		Long: `Print the JSON Schema (draft-07) of one manifest document: every field with its
description, type, enum or range, unknown fields refused, durations with their unit,
a healthcheck of exactly one kind. Editors that read JSON Schema (VS Code's YAML
extension, any yaml-language-server client) then flag a mistake while it is typed:

  reconciler schema > reconciler.schema.json

and put on the first line of a manifest

  # yaml-language-server: $schema=./reconciler.schema.json

The schema is what this version of reconciler accepts; it is also checked in as
spec/schema/container.schema.json. What needs more than one document (unique
names, dependsOn cycles) or the host (image builds) only "reconciler validate"
checks. -o yaml prints the same schema as YAML.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			schema, err := spec.JSONSchema()
			if err != nil {
				return err
			}
			return g.writeEncoded(func(w io.Writer) error {
				_, err := w.Write(schema)
				return err
			})
		},
	}
}
