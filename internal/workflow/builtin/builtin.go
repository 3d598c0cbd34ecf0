// Package builtin holds grantflow's implementations of Cisco's "Meraki - ..."
// system atomics as Cisco Workflows export files: the atomics and
// sub-workflows that Cisco's Meraki exports call by workflow id but never
// contain (FORMAT.md Appendix A). Each file keeps the workflow id and the
// input and output variable ids Cisco's callers use, so those exports run
// unchanged; the engine imports the files like any other export.
//
// The files are written by internal/atomicgen (go generate); README.md
// documents each atomic's inputs, outputs and the Meraki operations it
// calls.
package builtin

import (
	"embed"
	"io/fs"
	"path"
)

//go:generate go run ./internal/atomicgen/write

//go:embed atomics/*.json
var atomics embed.FS

// Files returns the export files by file name (e.g. "get-device.json").
func Files() map[string][]byte {
	out := map[string][]byte{}
	entries, err := fs.ReadDir(atomics, "atomics")
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	for _, e := range entries {
		b, err := atomics.ReadFile(path.Join("atomics", e.Name()))
		if err != nil {
			panic(err)
		}
		out[e.Name()] = b
	}
	return out
}
