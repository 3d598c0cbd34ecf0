package activities

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// logic.for_each: runs its actions once per element of source_array (a
// table, an array, or JSON text holding one), the current element being
// $activity.<loop>.input.source_array[@]$. logic.break leaves the loop,
// logic.continue goes on with the next element (FORMAT.md §3.9).
var forEach = engine.Type{Name: "logic.for_each", Container: true, Compile: func(a *export.Activity) (engine.Activity, error) {
	src, _ := a.Props["source_array"].(string)
	t := expr.Parse(src)
	raw := a.Props["source_array"]
	return engine.ActivityFunc(func(ctx context.Context, x *engine.X) (engine.Output, error) {
		var v any
		if src != "" {
			v = x.Value(t)
		} else {
			v = raw
		}
		items, err := elements(v)
		if err != nil {
			return nil, engine.Failf("source array: %v", err)
		}
		x.Input("source_array", len(items))
		for i, item := range items {
			if err := x.Iterate(i + 1); err != nil {
				return nil, err
			}
			x.SetItem(item)
			err := x.Run(ctx, x.Node().Actions)
			switch {
			case errors.Is(err, engine.ErrBreak):
				return engine.Output{"iterations": int64(i + 1)}, nil
			case err == nil, errors.Is(err, engine.ErrContinue):
			default:
				return nil, err
			}
		}
		return engine.Output{"iterations": int64(len(items))}, nil
	}), nil
}}

// elements turns a source array into its elements: a table or array as it
// is, JSON text parsed, a lone scalar as one element, nothing as none.
func elements(v any) ([]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return x, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return nil, nil
		}
		if s[0] == '[' {
			// Integers stay int64, as in the export's own values.
			dec := json.NewDecoder(strings.NewReader(s))
			dec.UseNumber()
			var out []any
			if err := dec.Decode(&out); err != nil {
				return nil, err
			}
			if _, err := dec.Token(); err != io.EOF {
				return nil, errors.New("more than one JSON value")
			}
			return export.Normalize(out).([]any), nil
		}
		return []any{x}, nil
	}
	return []any{v}, nil
}
