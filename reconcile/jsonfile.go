package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/reconciler/reconciler/internal/atomicfile"
)

// loadJSONFile reads the JSON file path into v, a ledger the agent keeps
// (what names it in errors); a missing file leaves v as it is. reset says
// what to do when the file cannot be decoded.
func loadJSONFile(path, what, reset string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s %s: %w (%s)", what, path, err, reset)
	}
	return nil
}

// saveJSONFile writes v to path as indented JSON, atomically and readable
// by its owner only.
func saveJSONFile(path, what string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
