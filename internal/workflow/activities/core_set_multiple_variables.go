package activities

import (
	"context"
	"fmt"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// assignment is one entry of a variables_to_update list.
type assignment struct {
	target expr.Ref
	value  engine.Value // raw: a template string, a JSON bool or number, or nil
}

func assignments(props map[string]any) ([]assignment, error) {
	list, _ := props["variables_to_update"].([]any)
	out := make([]assignment, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("variables_to_update[%d] is not an object", i)
		}
		s, _ := m["variable_to_update"].(string)
		ref, ok := expr.Parse(s).Single()
		if !ok {
			return nil, fmt.Errorf("variables_to_update[%d]: %q is not a variable reference", i, s)
		}
		out = append(out, assignment{target: ref, value: engine.CompileValue(m["variable_value_new"])})
	}
	return out, nil
}

func assign(x *engine.X, list []assignment) error {
	for _, a := range list {
		if err := x.AssignValue(a.target, a.value); err != nil {
			return err
		}
	}
	return nil
}

// core.set_multiple_variables: each entry is evaluated and assigned in
// list order, coerced to the variable's type; integer targets evaluate
// arithmetic after substitution ("$x$+1"); an entry without a value sets
// the variable's zero value (FORMAT.md §3.1).
var setVariables = engine.Type{Name: "core.set_multiple_variables", Compile: func(a *export.Activity) (engine.Activity, error) {
	list, err := assignments(a.Props)
	if err != nil {
		return nil, err
	}
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		return nil, assign(x, list)
	}), nil
}}
