package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// corejava.read_table_from_json ("Read Table from JSON", FORMAT.md §6.2)
// makes a table of the objects jsonpath_query selects in input_json and
// publishes it as output.read_table_from_json, with output.row_count.
//
// Which objects are the rows:
//
//   - $, $., $.*, $.[*] (and an empty path) all mean each element of the
//     top-level array, as the docs' "$." does. On a top-level object they
//     mean the object as the one row, except that $.* and $.[*] on an
//     object whose members are all objects mean those members.
//   - any other path is a Jayway path (jsonpath.go): a definite one that
//     selects an array makes a row of each element and one that selects an
//     object makes one row; an indefinite one makes a row of each match
//     (its single match, when that is an array, of each element).
//
// Each row holds the table_columns, converted to their column_type:
// string (arrays and objects as compact JSON text, which later activities
// read again), integer, number, boolean, date (kept as its text); a
// column the object lacks, or holds null, is null. populate_columns also
// keeps every other member as it is. A selected value that is not an
// object fills the first column. persist_output changes nothing here:
// any table can be changed later.
var readTableFromJSON = engine.Type{Name: "corejava.read_table_from_json", Compile: func(a *export.Activity) (engine.Activity, error) {
	input := textProp(a.Props, "input_json")
	query := textProp(a.Props, "jsonpath_query")
	cols, err := columnsProp(a.Props, "table_columns")
	if err != nil {
		return nil, err
	}
	var path *jsonPath
	if query.Literal() && !wholeArray(query.String()) {
		if path, err = compileJSONPath(query.String()); err != nil {
			return nil, err
		}
	}
	populateRaw := a.Props["populate_columns"]
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		in := x.Value(input)
		q := strings.TrimSpace(x.Text(query))
		x.Input("input_json", in)
		x.Input("jsonpath_query", q)
		populate, err := toBool(x.Prop(populateRaw))
		if err != nil {
			return nil, engine.Failf("populate_columns: %v", err)
		}
		if len(cols) == 0 && !populate {
			return nil, engine.Failf("%v", errNoColumns)
		}
		doc, err := jsonDoc(in)
		if err != nil {
			return nil, engine.Failf("%v", err)
		}
		p := path
		if p == nil && !wholeArray(q) {
			if p, err = compileJSONPath(q); err != nil {
				return nil, engine.Failf("%v", err)
			}
		}
		items, err := selectRows(doc, q, p)
		if err != nil {
			return nil, engine.Failf("%v", err)
		}
		rows, err := makeRows(items, cols, populate)
		if err != nil {
			return nil, engine.Failf("%v", err)
		}
		return engine.Output{"read_table_from_json": rows, "row_count": int64(len(rows))}, nil
	}), nil
}}

// wholeArray reports whether a path is one of the spellings of "each
// element of the top-level array".
func wholeArray(q string) bool {
	switch strings.TrimSpace(q) {
	case "", "$", "$.", "$.*", "$.[*]", "$[*]", "$*":
		return true
	}
	return false
}

// selectRows picks the values that become rows (still *object).
func selectRows(doc any, q string, p *jsonPath) ([]any, error) {
	if p == nil {
		switch d := doc.(type) {
		case []any:
			return d, nil
		case *object:
			q = strings.TrimSpace(q)
			if q == "$.*" || q == "$.[*]" || q == "$[*]" || q == "$*" {
				members := make([]any, 0, len(d.keys))
				for _, k := range d.keys {
					if _, ok := d.m[k].(*object); !ok {
						return []any{d}, nil
					}
					members = append(members, d.m[k])
				}
				return members, nil
			}
			return []any{d}, nil
		case nil:
			return nil, nil
		}
		return nil, fmt.Errorf("the JSON is %s, not an array of objects", kindName(doc))
	}
	r, err := p.eval(doc)
	if err != nil {
		return nil, err
	}
	if !r.Found {
		return nil, fmt.Errorf("no results for path %s", strings.TrimSpace(p.src))
	}
	v := r.Value
	if !r.Definite {
		list := v.([]any)
		if len(list) != 1 {
			return list, nil
		}
		v = list[0]
	}
	switch d := v.(type) {
	case []any:
		return d, nil
	case nil:
		return nil, nil
	}
	return []any{v}, nil
}

// makeRows turns the selected values into rows of the declared columns.
func makeRows(items []any, cols []column, populate bool) ([]any, error) {
	rows := make([]any, 0, len(items))
	for i, item := range items {
		row := make(map[string]any, len(cols))
		obj, ok := item.(*object)
		if !ok {
			if len(cols) == 0 {
				return nil, fmt.Errorf("row %d is %s, not an object", i, kindName(item))
			}
			v, err := cell(cols[0].Type, item)
			if err != nil {
				return nil, fmt.Errorf("row %d, column %q: %w", i, cols[0].Name, err)
			}
			row[cols[0].Name] = v
			for _, c := range cols[1:] {
				row[c.Name] = nil
			}
			rows = append(rows, row)
			continue
		}
		m := plain(obj).(map[string]any)
		for _, c := range cols {
			raw, _ := obj.ValueForKey(c.Name)
			if raw == nil {
				raw, _ = lookup(m, c.Name)
			}
			v, err := cell(c.Type, raw)
			if err != nil {
				return nil, fmt.Errorf("row %d, column %q: %w", i, c.Name, err)
			}
			row[c.Name] = v
		}
		if populate {
			for k, v := range m {
				if _, ok := row[k]; !ok && !slices.ContainsFunc(cols, func(c column) bool { return strings.EqualFold(c.Name, k) }) {
					row[k] = v
				}
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}
