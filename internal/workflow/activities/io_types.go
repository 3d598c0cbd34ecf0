package activities

import "github.com/grantflow/grantflow/internal/workflow/engine"

// ioTypes are the activities that act outside the run or wait: API and
// HTTP requests, Python scripts, sleeps, prompts.
func ioTypes() []engine.Type {
	return nil
}
