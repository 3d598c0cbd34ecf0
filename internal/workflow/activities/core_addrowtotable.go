package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// rowValue is one entry of a row property: {key, type, value}.
type rowValue struct {
	key, typ string
	value    any // raw: a template, a JSON value, or nil when absent
}

func rowProp(props map[string]any) ([]rowValue, error) {
	list, _ := props["row"].([]any)
	out := make([]rowValue, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("row[%d] is not an object", i)
		}
		k := expr.Text(m["key"])
		if k == "" {
			return nil, fmt.Errorf("row[%d] has no key", i)
		}
		out = append(out, rowValue{key: k, typ: strings.ToLower(expr.Text(m["type"])), value: m["value"]})
	}
	return out, nil
}

// core.addrowtotable ("Add Row to Table", FORMAT.md §6.5) appends one row
// to the table variable input_table names (local, output or global), in
// place: later references to the variable see the new row. Each entry of
// row is evaluated (a single reference keeps its type) and converted to
// its type; an entry with no value holds its type's zero ("" for text).
// An activity's output table cannot be changed this way: the engine gives
// activities no way to change another activity's output.
var addRowToTable = engine.Type{Name: "core.addrowtotable", Compile: func(a *export.Activity) (engine.Activity, error) {
	src, _ := a.Props["input_table"].(string)
	target, ok := expr.Parse(src).Single()
	if !ok {
		return nil, fmt.Errorf("input_table %q is not a reference to a table variable", src)
	}
	if target.Root != expr.RootWorkflow && target.Root != expr.RootGlobal {
		return nil, errors.New("input_table must be a table variable; an activity's output table cannot be changed")
	}
	entries, err := rowProp(a.Props)
	if err != nil {
		return nil, err
	}
	table := expr.Parse(src)
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		row := make(map[string]any, len(entries))
		for _, e := range entries {
			if e.value == nil {
				row[e.key] = zeroCell(e.typ)
				continue
			}
			v, err := cell(e.typ, x.Prop(e.value))
			if err != nil {
				return nil, engine.Failf("column %q: %v", e.key, err)
			}
			if v == nil {
				v = zeroCell(e.typ)
			}
			row[e.key] = v
		}
		x.Input("input_table", target.Raw)
		x.Input("row", row)
		rows, err := tableOf(x.Value(table))
		if err != nil {
			return nil, engine.Failf("input_table: %v", err)
		}
		// A new slice: the old one may be shared with outputs that read it.
		next := make([]any, len(rows), len(rows)+1)
		copy(next, rows)
		next = append(next, row)
		if err := x.Assign(target, next); err != nil {
			return nil, err
		}
		return engine.Output{"row_count": int64(len(next))}, nil
	}), nil
}}
