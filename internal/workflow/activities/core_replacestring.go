package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// core.replacestring ("Replace String", FORMAT.md §3.20) replaces, for
// each entry of replace_list in order, every occurrence of replaced_string
// in input_string by replacement_string, and publishes result_string. \n,
// \t and \\ written in the properties are the characters; an empty
// replaced_string replaces nothing.
var replaceString = engine.Type{Name: "core.replacestring", Compile: func(a *export.Activity) (engine.Activity, error) {
	input := textProp(a.Props, "input_string")
	list, _ := a.Props["replace_list"].([]any)
	type pair struct{ old, new expr.Template }
	pairs := make([]pair, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("replace_list[%d] is not an object", i)
		}
		pairs = append(pairs, pair{textProp(m, "replaced_string"), textProp(m, "replacement_string")})
	}
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		s := x.Text(input)
		x.Input("input_string", s)
		seen := make([]any, 0, len(pairs))
		for _, p := range pairs {
			old, repl := literalText(x, p.old), literalText(x, p.new)
			seen = append(seen, map[string]any{"replaced_string": old, "replacement_string": repl})
			if old != "" {
				s = strings.ReplaceAll(s, old, repl)
			}
		}
		x.Input("replace_list", seen)
		return engine.Output{"result_string": s}, nil
	}), nil
}}
