package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/export/kube"
	"github.com/reconciler/reconciler/spec"
)

func newExportCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export manifests to another platform's objects",
	}
	cmd.AddCommand(newExportKubernetesCommand(g))
	return cmd
}

func newExportKubernetesCommand(g *globals) *cobra.Command {
	var (
		opt        kube.Options
		kind, out  string
		envSecrets []string
	)
	cmd := &cobra.Command{
		Use:   "kubernetes [flags] PATH...",
		Short: "Write a Kubernetes Deployment (or Pod) for Windows nodes per manifest",
		Long: `export kubernetes writes, per manifest under PATH, a Deployment (--kind pod: a bare Pod)
for Windows nodes, as multi-document YAML on stdout or one file per object in --out:
pinned to Windows amd64 nodes of the image's build (node.kubernetes.io/windows-build),
tolerating the os=windows:NoSchedule taint, with the isolation mode as a RuntimeClass
(process: runhcs-wcow-process, hyperv: runhcs-wcow-hypervisor; --runtime-classes writes
those objects too). A field with no Kubernetes equivalent is an error or a warning
naming it (on stderr), never dropped silently. On any error nothing is written and the
exit code is 1.`,
		Example: `  reconciler export kubernetes examples/manifests > windows.yaml
  reconciler export kubernetes --kind pod --runtime-classes --out k8s/ examples/manifests
  reconciler export kubernetes --env-from-secret orders-api=orders-env examples/manifests`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeManifestPaths,
		RunE: func(cmd *cobra.Command, paths []string) error {
			switch opt.Kind = kube.Kind(kind); opt.Kind {
			case kube.KindDeployment, kube.KindPod:
			default:
				return fmt.Errorf("--kind %q: must be deployment or pod", kind)
			}
			opt.EnvSecrets = map[string]string{}
			for _, v := range envSecrets {
				if err := kube.ParseEnvSecret(opt.EnvSecrets, v); err != nil {
					return fmt.Errorf("--env-from-secret %w", err)
				}
			}
			if opt.NodeCPUs < 0 {
				return fmt.Errorf("--node-cpus %d: must be positive", opt.NodeCPUs)
			}
			set, err := spec.Load(paths...)
			if err != nil {
				return err
			}
			res := kube.Export(set.Containers, opt)
			errs := append(set.Errors, res.Errors...)
			writeProblems(g.stderr, "error", errs)
			writeProblems(g.stderr, "warning", append(set.Warnings, res.Warnings...))
			if len(errs) > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d error(s); nothing written", len(errs))}
			}
			if out == "" {
				return kube.WriteYAML(g.stdout, res.Objects)
			}
			written, err := kube.WriteDir(out, res.Objects)
			for _, p := range written {
				fmt.Fprintln(g.stdout, p)
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&kind, "kind", string(kube.KindDeployment), "workload kind: deployment or pod")
	fl.StringVar(&out, "out", "", "write one file per object (kind-name.yaml) in this folder instead of stdout")
	fl.StringVarP(&opt.Namespace, "namespace", "n", "", "namespace of the workloads")
	fl.BoolVar(&opt.HostPorts, "host-ports", false, "publish spec.ports[].hostPort as the pods' hostPort (else a warning: expose them with a Service)")
	fl.BoolVar(&opt.RuntimeClasses, "runtime-classes", false, "also write the RuntimeClass objects the workloads name")
	fl.StringArrayVar(&envSecrets, "env-from-secret", nil, "SECRET or CONTAINER=SECRET: read the environment from that Secret's keys (one per variable name); the manifest's values are not written (repeatable)")
	fl.IntVar(&opt.NodeCPUs, "node-cpus", 0, "CPU count of the Windows nodes, to turn a cpuMaximumPercent without cpuCount into a CPU limit")
	return cmd
}

// writeProblems writes each problem on its own line, after what it is.
func writeProblems(w io.Writer, what string, ps []spec.Problem) {
	for _, p := range ps {
		fmt.Fprintf(w, "%s: %s\n", what, p.Error())
	}
}
