package activities

import (
	"context"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// logic.continue skips the rest of the innermost loop's iteration.
var continueType = engine.Type{Name: "logic.continue", Compile: func(*export.Activity) (engine.Activity, error) {
	return engine.ActivityFunc(func(context.Context, *engine.X) (engine.Output, error) { return nil, engine.ErrContinue }), nil
}}
