package activities

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// core.selectfromtable ("Select from Table", FORMAT.md §6.4) publishes as
// output.output_table the rows of input_table that where_clause matches
// (expr.ParseWhere, after substitution; absent or blank: every row), with
// output.row_count.
//
// sorting {"sort_by": true, "column_name": c, "order": "asc"|"desc"}
// orders the rows by c (numbers by value, RFC 3339 dates by instant, other
// values by their text; a stable sort) before number_of_rows
// {"at_most": true, "first_n_rows": n} keeps the first n. columns projects
// each row onto the listed columns, converted to their column_type; no
// columns keeps every column. The rows are copies: changing the result
// does not change input_table.
var selectFromTable = engine.Type{Name: "core.selectfromtable", Compile: func(a *export.Activity) (engine.Activity, error) {
	table := textProp(a.Props, "input_table")
	cols, err := columnsProp(a.Props, "columns")
	if err != nil {
		return nil, err
	}
	where := textProp(a.Props, "where_clause")
	var parsed *expr.Where
	if where.Literal() {
		w, err := expr.ParseWhere(where.String())
		if err != nil {
			return nil, fmt.Errorf("where_clause: %w", err)
		}
		parsed = &w
	}
	limits, _ := a.Props["number_of_rows"].(map[string]any)
	sorting, _ := a.Props["sorting"].(map[string]any)
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		rows, err := tableOf(x.Value(table))
		if err != nil {
			return nil, engine.Failf("input_table: %v", err)
		}
		w := parsed
		clause := where.String()
		if w == nil {
			clause = x.Text(where)
			pw, err := expr.ParseWhere(clause)
			if err != nil {
				return nil, engine.Failf("where_clause %q: %v", clause, err)
			}
			w = &pw
		}
		x.Input("input_table", int64(len(rows)))
		x.Input("where_clause", clause)
		var out []any
		for _, r := range rows {
			if w.Match(r.(map[string]any)) {
				out = append(out, r)
			}
		}
		if by, _ := toBool(x.Prop(sorting["sort_by"])); by {
			col := x.Text(textProp(sorting, "column_name"))
			desc := strings.EqualFold(x.Text(textProp(sorting, "order")), "desc")
			x.Input("sort", col+" "+map[bool]string{false: "asc", true: "desc"}[desc])
			slices.SortStableFunc(out, func(a, b any) int {
				va, _ := lookup(a.(map[string]any), col)
				vb, _ := lookup(b.(map[string]any), col)
				c := compareCells(va, vb)
				if desc {
					return -c
				}
				return c
			})
		}
		if most, _ := toBool(x.Prop(limits["at_most"])); most {
			all, _ := toBool(x.Prop(limits["all_rows"]))
			n, err := toInt(x.Prop(limits["first_n_rows"]))
			if err != nil {
				return nil, engine.Failf("first_n_rows: %v", err)
			}
			if !all && n >= 0 && int(n) < len(out) {
				out = out[:n]
			}
			x.Input("first_n_rows", n)
		}
		result := make([]any, len(out))
		for i, r := range out {
			m := r.(map[string]any)
			if len(cols) == 0 {
				result[i] = maps.Clone(m)
				continue
			}
			p := make(map[string]any, len(cols))
			for _, c := range cols {
				raw, _ := lookup(m, c.Name)
				v, err := cell(c.Type, raw)
				if err != nil {
					return nil, engine.Failf("row %d, column %q: %v", i, c.Name, err)
				}
				p[c.Name] = v
			}
			result[i] = p
		}
		return engine.Output{"output_table": result, "row_count": int64(len(result))}, nil
	}), nil
}}

// compareCells orders two cells: numbers by value, RFC 3339 dates by
// instant, anything else by its text; null first.
func compareCells(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	fa, errA := toFloat(a)
	fb, errB := toFloat(b)
	_, boolA := a.(bool)
	_, boolB := b.(bool)
	if errA == nil && errB == nil && !boolA && !boolB {
		return cmpFloat(fa, fb)
	}
	ta, tb := expr.Text(a), expr.Text(b)
	if da, err := time.Parse(time.RFC3339Nano, ta); err == nil {
		if db, err := time.Parse(time.RFC3339Nano, tb); err == nil {
			return da.Compare(db)
		}
	}
	return strings.Compare(ta, tb)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
