package activities

import (
	"context"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// logic.break leaves the innermost loop.
var breakType = engine.Type{Name: "logic.break", Compile: func(*export.Activity) (engine.Activity, error) {
	return engine.ActivityFunc(func(context.Context, *engine.X) (engine.Output, error) { return nil, engine.ErrBreak }), nil
}}
