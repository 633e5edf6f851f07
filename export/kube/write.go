package kube

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/reconciler/reconciler/internal/atomicfile"
	"sigs.k8s.io/yaml"
)

// Marshal renders one object as YAML through its JSON tags, as kubectl
// does.
func Marshal(o Object) ([]byte, error) {
	b, err := yaml.Marshal(o.Object)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", o.Kind, o.Name, err)
	}
	return b, nil
}

// WriteYAML writes objects to w as one multi-document YAML stream.
func WriteYAML(w io.Writer, objects []Object) error {
	var buf bytes.Buffer
	for i, o := range objects {
		b, err := Marshal(o)
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// FileName is the file an object is written to in a folder:
// "deployment-web.yaml".
func FileName(o Object) string {
	return strings.ToLower(o.Kind) + "-" + o.Name + ".yaml"
}

// WriteDir writes each object to its own file (FileName) in dir, made if
// missing; each file is replaced atomically. It returns the paths written.
func WriteDir(dir string, objects []Object) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(objects))
	for _, o := range objects {
		b, err := Marshal(o)
		if err != nil {
			return paths, err
		}
		path := filepath.Join(dir, FileName(o))
		if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
			return paths, fmt.Errorf("%s %s: %w", o.Kind, o.Name, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
