package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// core.read_table_from_text ("Read Table from Text", FORMAT.md §6.3)
// makes a table of delimited text (CSV and the like) and publishes it as
// output.read_table_from_text, with output.row_count.
//
// Each non-blank line is a row, split at every occurrence of any of the
// delimiters ({"delimiter": ","}; \t, \n and \\ written in the property
// are the characters; none given is a comma). Fields are trimmed of
// surrounding spaces; quotes are not special. The fields fill the
// table_columns in order, converted to their column_type; missing fields
// are null and extra ones are dropped. With populate_columns the first
// line names the columns (text, unless table_columns gives a name a type).
var readTableFromText = engine.Type{Name: "core.read_table_from_text", Compile: func(a *export.Activity) (engine.Activity, error) {
	input := textProp(a.Props, "input_text")
	cols, err := columnsProp(a.Props, "table_columns")
	if err != nil {
		return nil, err
	}
	list, _ := a.Props["delimiters"].([]any)
	delims := make([]expr.Template, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("delimiters[%d] is not an object", i)
		}
		delims = append(delims, textProp(m, "delimiter"))
	}
	populateRaw := a.Props["populate_columns"]
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		text := x.Text(input)
		var seps []string
		for _, d := range delims {
			if s := literalText(x, d); s != "" {
				seps = append(seps, s)
			}
		}
		if len(seps) == 0 {
			seps = []string{","}
		}
		x.Input("input_text", text)
		x.Input("delimiters", seps)
		populate, err := toBool(x.Prop(populateRaw))
		if err != nil {
			return nil, engine.Failf("populate_columns: %v", err)
		}
		var lines [][]string
		for line := range strings.Lines(text) {
			line = strings.TrimRight(line, "\r\n")
			if strings.TrimSpace(line) != "" {
				lines = append(lines, splitAny(line, seps))
			}
		}
		use := cols
		if populate && len(lines) > 0 {
			use = make([]column, len(lines[0]))
			for i, name := range lines[0] {
				use[i] = column{Name: name, Type: "string"}
				if j := slices.IndexFunc(cols, func(c column) bool { return strings.EqualFold(c.Name, name) }); j >= 0 {
					use[i].Type = cols[j].Type
				}
			}
			lines = lines[1:]
		}
		if len(use) == 0 && !populate {
			return nil, engine.Failf("%v", errNoColumns)
		}
		rows := make([]any, 0, len(lines))
		for n, fields := range lines {
			row := make(map[string]any, len(use))
			for i, c := range use {
				var raw any
				if i < len(fields) {
					raw = fields[i]
				}
				v, err := cell(c.Type, raw)
				if err != nil {
					return nil, engine.Failf("line %d, column %q: %v", n+1, c.Name, err)
				}
				row[c.Name] = v
			}
			rows = append(rows, row)
		}
		return engine.Output{"read_table_from_text": rows, "row_count": int64(len(rows))}, nil
	}), nil
}}

// splitAny splits s at every occurrence of any of seps (the longest at a
// position wins) and trims the fields.
func splitAny(s string, seps []string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		n := 0
		for _, sep := range seps {
			if len(sep) > n && strings.HasPrefix(s[i:], sep) {
				n = len(sep)
			}
		}
		if n == 0 {
			i++
			continue
		}
		out = append(out, strings.TrimSpace(s[start:i]))
		i += n
		start = i
	}
	return append(out, strings.TrimSpace(s[start:]))
}
