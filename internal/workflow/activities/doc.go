// Package activities holds the engine's activity types, one file per type
// (FORMAT.md §3), each a [engine.Type]. [All] lists them for
// [engine.New].
package activities

import "github.com/grantflow/grantflow/internal/workflow/engine"

// All is every activity type grantflow runs.
func All() []engine.Type {
	all := []engine.Type{
		ifElse, conditionBlock, forEach, while, group, parallel, parallelBlock,
		breakType, continueType, completed, setVariables,
		atomicWorkflow, subWorkflow,
	}
	all = append(all, dataTypes()...)
	return append(all, ioTypes()...)
}
