package expr_test

import (
	"fmt"

	"github.com/grantflow/grantflow/internal/workflow/expr"
)

func Example() {
	vars := map[string]any{
		"variable_workflow_02NRCSEAJMWQA1LYV0jVkTUvYqlISwfJXeJ": int64(41),
	}
	res := expr.ResolverFunc(func(r expr.Ref) (any, bool) {
		if !r.WellFormed() {
			return nil, false // leave the text as it is
		}
		if r.Root == expr.RootWorkflow && r.Scope == "local" {
			return expr.Walk(vars, r.Path)
		}
		return nil, true
	})

	// Set Variables: "$x$+1" on an integer variable.
	t := expr.Parse("$workflow.definition_workflow_02NRCRVTFFKPX5zCCqfa3XYE7xCJXVN0odv.local.variable_workflow_02NRCSEAJMWQA1LYV0jVkTUvYqlISwfJXeJ$+1")
	n, err := expr.Arith(t.Render(res))
	fmt.Println(n, err)

	// JSONPath and OData $ stay text.
	fmt.Println(expr.Parse("$.items[?(@.n == $workflow.definition_workflow_02NRCRVTFFKPX5zCCqfa3XYE7xCJXVN0odv.local.variable_workflow_02NRCSEAJMWQA1LYV0jVkTUvYqlISwfJXeJ$)]").Render(res))

	// A condition block branch.
	ok, err := expr.Eval(map[string]any{
		"left_operand":  "$workflow.definition_workflow_02NRCRVTFFKPX5zCCqfa3XYE7xCJXVN0odv.local.variable_workflow_02NRCSEAJMWQA1LYV0jVkTUvYqlISwfJXeJ$",
		"operator":      "lt",
		"right_operand": "500",
	}, res)
	fmt.Println(ok, err)

	// A select-from-table where clause.
	w, _ := expr.ParseWhere("portId = '12' AND enabled == true")
	fmt.Println(w.Match(map[string]any{"portId": int64(12), "enabled": true}))
	// Output:
	// 42 <nil>
	// $.items[?(@.n == 41)]
	// true <nil>
	// true
}
