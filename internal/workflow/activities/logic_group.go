package activities

import (
	"context"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// logic.group: a sequential section; skip_execution on it (handled by the
// engine) switches the whole section off.
var group = engine.Type{Name: "logic.group", Container: true, Compile: func(*export.Activity) (engine.Activity, error) {
	return engine.ActivityFunc(func(ctx context.Context, x *engine.X) (engine.Output, error) {
		return nil, x.Run(ctx, x.Node().Actions)
	}), nil
}}
