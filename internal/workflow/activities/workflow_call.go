package activities

import (
	"context"
	"errors"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// workflow.atomic_workflow and workflow.sub_workflow call another workflow
// by properties.workflow_id: found in the file's embedded definitions,
// then the tenant's imported workflows, then the built-in ones. input maps
// the child's input variable ids to values (templates evaluated, a single
// reference keeping its type); inputs left out take the child's defaults.
// The output is the child's output variables by id (FORMAT.md §3.3).
func callType(name string) engine.Type {
	return engine.Type{Name: name, Container: true, Compile: func(a *export.Activity) (engine.Activity, error) {
		id, _ := a.Props["workflow_id"].(string)
		if id == "" {
			return nil, errors.New("the call names no workflow (properties.workflow_id)")
		}
		inputs, _ := a.Props["input"].(map[string]any)
		spec, _ := a.Props["target"].(map[string]any)
		return engine.ActivityFunc(func(ctx context.Context, x *engine.X) (engine.Output, error) {
			vals := make(map[string]any, len(inputs))
			for k, raw := range inputs {
				vals[k] = x.Prop(raw)
			}
			for k, v := range vals {
				x.Input(k, v)
			}
			return x.Call(ctx, id, vals, spec)
		}), nil
	}}
}

var (
	atomicWorkflow = callType("workflow.atomic_workflow")
	subWorkflow    = callType("workflow.sub_workflow")
)
