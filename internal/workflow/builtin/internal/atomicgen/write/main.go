// Command write regenerates builtin/atomics from package atomicgen; run it
// with go generate in internal/workflow/builtin.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/grantflow/grantflow/internal/workflow/builtin/internal/atomicgen"
)

func main() {
	files, err := atomicgen.Files()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join("atomics", name), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
