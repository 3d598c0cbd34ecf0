package activities

import (
	"context"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// logic.completed ends the current workflow instance (an atomic or
// sub-workflow ends only itself) as succeeded or failed-completed, with
// result_message; inside a loop it ends the whole instance, not the loop.
// Its own variables_to_update are applied first (FORMAT.md §3.4).
var completed = engine.Type{Name: "logic.completed", Compile: func(a *export.Activity) (engine.Activity, error) {
	list, err := assignments(a.Props)
	if err != nil {
		return nil, err
	}
	typ, _ := a.Props["completion_type"].(string)
	msgSrc, _ := a.Props["result_message"].(string)
	msg := expr.Parse(msgSrc)
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		if err := assign(x, list); err != nil {
			return nil, err
		}
		m := x.Text(msg)
		x.Input("completion_type", typ)
		x.Input("result_message", m)
		return nil, &engine.Completed{Failed: typ != "" && typ != "succeeded", Message: m}
	}), nil
}}
