package activities

import "github.com/grantflow/grantflow/internal/workflow/engine"

// ioTypes are the activities that act outside the run or wait: API and
// HTTP requests, Python scripts, sleeps, prompts. All are effects, so a
// resumed run takes their recorded results instead of repeating them.
func ioTypes() []engine.Type {
	return []engine.Type{merakiRequest, httpRequest, pythonScript, promptRequest, sleep}
}
