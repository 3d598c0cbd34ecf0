package activities_test

import (
	"reflect"
	"strings"
	"testing"
)

const switchPorts = `[
 {"portId": "1", "name": "uplink", "tags": ["core", "a"], "enabled": true, "poeEnabled": "false", "vlan": 1, "type": "trunk"},
 {"portId": "2", "name": "desk", "tags": [], "enabled": false, "poeEnabled": true, "vlan": "20", "type": "access"},
 {"portId": "10", "name": "printer", "enabled": true, "vlan": 30, "type": "access"}]`

func TestReadTableFromJSON(t *testing.T) {
	t.Parallel()
	cols := `[{"column_name": "portId", "column_type": "string"}, {"column_name": "tags", "column_type": "string"},
		{"column_name": "enabled", "column_type": "boolean"}, {"column_name": "vlan", "column_type": "integer"}]`
	port1 := map[string]any{"portId": "1", "tags": `["core","a"]`, "enabled": true, "vlan": int64(1)}
	tests := []struct {
		name, input, query, cols string
		populate                 bool
		rows                     int
		first                    map[string]any
		fail                     string
	}{
		{name: "$.*", input: switchPorts, query: "$.*", cols: cols, rows: 3, first: port1},
		{name: "$.", input: switchPorts, query: "$.", cols: cols, rows: 3, first: port1},
		{name: "$", input: switchPorts, query: "$", cols: cols, rows: 3, first: port1},
		{name: "$.[*]", input: switchPorts, query: "$.[*]", cols: cols, rows: 3, first: port1},
		{name: "path to an array", input: `{"data": ` + switchPorts + `}`, query: "$.data", cols: cols, rows: 3, first: port1},
		{name: "filter", input: `{"data": ` + switchPorts + `}`, query: `$.data[?(@.type=="access")]`, cols: `[{"column_name": "name", "column_type": "string"}]`,
			rows: 2, first: map[string]any{"name": "desk"}},
		{name: "object is one row", input: `{"portId": "7", "vlan": "5"}`, query: "$.", cols: cols, rows: 1,
			first: map[string]any{"portId": "7", "tags": nil, "enabled": nil, "vlan": int64(5)}},
		{name: "object of objects", input: `{"wan1": {"interface": "wan1", "status": "active"}, "wan2": {"interface": "wan2", "status": "failed"}}`,
			query: "$.*", cols: `[{"column_name": "status", "column_type": "string"}, {"column_name": "interface", "column_type": "string"}]`,
			rows: 2, first: map[string]any{"interface": "wan1", "status": "active"}},
		{name: "empty table trick", input: `[]`, query: "$.", cols: cols, rows: 0},
		{name: "populate columns", input: `[{"b": 1, "a": {"x": true}}]`, query: "$", populate: true, cols: `[]`, rows: 1,
			first: map[string]any{"b": int64(1), "a": map[string]any{"x": true}}},
		{name: "scalar rows fill the first column", input: `["a", "b"]`, query: "$.*", cols: `[{"column_name": "id", "column_type": "string"}]`,
			rows: 2, first: map[string]any{"id": "a"}},
		{name: "bad integer", input: `[{"vlan": "trunk"}]`, query: "$.", cols: cols, fail: `row 0, column "vlan": the text "trunk" is not an integer`},
		{name: "not JSON", input: `portId,name`, query: "$.", cols: cols, fail: "the input is not JSON"},
		{name: "no columns", input: switchPorts, query: "$.", cols: `[]`, fail: "no columns to read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			props := `{"input_json": ` + jsonText(ref("local", "json")) + `, "jsonpath_query": ` + jsonText(tc.query) +
				`, "persist_output": true, "populate_columns": ` + jsonText(tc.populate) + `, "table_columns": ` + tc.cols + `}`
			r := runActivity(t, "corejava.read_table_from_json", props, variable("json", "local", "datatype.string", tc.input))
			if tc.fail != "" {
				if !strings.Contains(failed(r), tc.fail) {
					t.Fatalf("error %q, want %q", failed(r), tc.fail)
				}
				return
			}
			if msg := failed(r); msg != "" {
				t.Fatalf("failed: %s", msg)
			}
			rows := r.Output["read_table_from_json"].([]any)
			if len(rows) != tc.rows || r.Output["row_count"] != int64(tc.rows) {
				t.Fatalf("%d rows, row_count %v, want %d: %v", len(rows), r.Output["row_count"], tc.rows, rows)
			}
			if tc.first != nil && !reflect.DeepEqual(rows[0], tc.first) {
				t.Errorf("first row %#v, want %#v", rows[0], tc.first)
			}
		})
	}
}

func TestReadTableFromText(t *testing.T) {
	t.Parallel()
	csv := "id,name,username\n1,Leanne Graham,lgraham\r\n\n2, Ervin Howell ,ehowell\n"
	tests := []struct {
		name, text, delims, cols string
		populate                 bool
		want                     []any
		fail                     string
	}{
		{name: "header line", text: csv, delims: `[{"delimiter": ","}]`, populate: true, cols: `[{"column_name": "id", "column_type": "integer"}]`,
			want: []any{map[string]any{"id": int64(1), "name": "Leanne Graham", "username": "lgraham"},
				map[string]any{"id": int64(2), "name": "Ervin Howell", "username": "ehowell"}}},
		{name: "declared columns", text: "a;b|c\nd", delims: `[{"delimiter": ";"}, {"delimiter": "|"}]`,
			cols: `[{"column_name": "x", "column_type": "string"}, {"column_name": "y", "column_type": "string"}]`,
			want: []any{map[string]any{"x": "a", "y": "b"}, map[string]any{"x": "d", "y": nil}}},
		{name: "one id column", text: "N1,N2", delims: `[{"delimiter": ","}]`, cols: `[{"column_name": "id", "column_type": "string"}]`,
			want: []any{map[string]any{"id": "N1"}}},
		{name: "tab delimiter", text: "a\tb", delims: `[{"delimiter": "\\t"}]`, cols: `[{"column_name": "x", "column_type": "string"}, {"column_name": "y", "column_type": "string"}]`,
			want: []any{map[string]any{"x": "a", "y": "b"}}},
		{name: "no columns", text: csv, delims: `[]`, cols: `[]`, fail: "no columns to read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			props := `{"input_text": ` + jsonText(ref("local", "text")) + `, "delimiters": ` + tc.delims +
				`, "persist_output": false, "populate_columns": ` + jsonText(tc.populate) + `, "table_columns": ` + tc.cols + `}`
			r := runActivity(t, "core.read_table_from_text", props, variable("text", "local", "datatype.string", tc.text))
			if tc.fail != "" {
				if !strings.Contains(failed(r), tc.fail) {
					t.Fatalf("error %q, want %q", failed(r), tc.fail)
				}
				return
			}
			if msg := failed(r); msg != "" {
				t.Fatalf("failed: %s", msg)
			}
			if got := r.Output["read_table_from_text"]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
			if r.Output["row_count"] != int64(len(tc.want)) {
				t.Errorf("row_count %v", r.Output["row_count"])
			}
		})
	}
}

func TestSelectFromTable(t *testing.T) {
	t.Parallel()
	all := `{"all_rows": true}`
	noSort := `{"no_sort": true}`
	portID := `[{"column_name": "portId", "column_type": "string"}]`
	tests := []struct {
		name, where, cols, rows, sorting string
		vars                             []string
		want                             []any
		fail                             string
	}{
		{name: "= with a reference", where: "portId = '" + ref("input", "port") + "'", cols: portID, rows: all, sorting: noSort,
			vars: []string{variable("port", "input", "datatype.string", "2")}, want: []any{map[string]any{"portId": "2"}}},
		{name: "== double quotes", where: `name == "printer"`, cols: portID, rows: all, sorting: noSort, want: []any{map[string]any{"portId": "10"}}},
		{name: "number compare and AND", where: `vlan > 1 AND type == 'access'`, cols: portID, rows: all, sorting: noSort,
			want: []any{map[string]any{"portId": "2"}, map[string]any{"portId": "10"}}},
		{name: "no clause, first n, sorted desc", where: "", cols: `[{"column_name": "vlan", "column_type": "integer"}]`,
			rows: `{"at_most": true, "first_n_rows": 2}`, sorting: `{"sort_by": true, "column_name": "vlan", "order": "desc"}`,
			want: []any{map[string]any{"vlan": int64(30)}, map[string]any{"vlan": int64(20)}}},
		{name: "sorted asc by number-like text", where: "", cols: portID, rows: all, sorting: `{"sort_by": true, "column_name": "portId", "order": "asc"}`,
			want: []any{map[string]any{"portId": "1"}, map[string]any{"portId": "2"}, map[string]any{"portId": "10"}}},
		{name: "no match", where: "portId == 'x'", cols: portID, rows: `{"all_rows": true, "at_most": false}`, sorting: `{"no_sort": true, "sort_by": false}`, want: []any{}},
		{name: "bad clause", where: "portId ~ 1", cols: portID, rows: all, sorting: noSort, fail: "where_clause"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := append([]string{variable("ports", "local", "datatype.string", switchPorts)}, tc.vars...)
			read := activity("read", "corejava.read_table_from_json", `{"input_json": `+jsonText(ref("local", "ports"))+`, "jsonpath_query": "$.*",
				"persist_output": true, "populate_columns": true, "table_columns": [{"column_name": "vlan", "column_type": "integer"}]}`)
			sel := activity("sel", "core.selectfromtable", `{"input_table": `+jsonText(actRef("read", "read_table_from_json"))+`,
				"columns": `+tc.cols+`, "where_clause": `+jsonText(tc.where)+`, "number_of_rows": `+tc.rows+`, "sorting": `+tc.sorting+`, "persist_output": true}`)
			_, rec := runExport(t, exportJSON(vars, read, sel), nil)
			r := rec.of(t, "sel")
			if tc.fail != "" {
				if !strings.Contains(failed(r), tc.fail) {
					t.Fatalf("error %q, want %q", failed(r), tc.fail)
				}
				return
			}
			if msg := failed(r); msg != "" {
				t.Fatalf("failed: %s", msg)
			}
			if got := r.Output["output_table"]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
			if r.Output["row_count"] != int64(len(tc.want)) {
				t.Errorf("row_count %v", r.Output["row_count"])
			}
		})
	}
}

// Rows added in a loop land in the table variable, which later activities
// and the caller see; an entry with no value holds "".
func TestAddRowToTable(t *testing.T) {
	t.Parallel()
	vars := []string{variable("ports", "local", "datatype.string", switchPorts),
		`{"unique_name": "variable_workflow_tbl", "schema_id": "tabletype_x", "object_type": "variable_workflow",
		  "properties": {"name": "tbl", "scope": "output", "type": "datatype.table"}}`}
	read := activity("read", "corejava.read_table_from_json", `{"input_json": `+jsonText(ref("local", "ports"))+`, "jsonpath_query": "$.*",
		"persist_output": false, "populate_columns": false, "table_columns": [{"column_name": "name", "column_type": "string"}, {"column_name": "portId", "column_type": "string"}]}`)
	add := activity("add", "core.addrowtotable", `{"input_table": `+jsonText(ref("output", "tbl"))+`, "row": [
		{"key": "name", "type": "string", "value": "$activity.definition_activity_loop.input.source_array[@].name$"},
		{"key": "id", "type": "integer", "value": "$activity.definition_activity_loop.input.source_array[@].portId$"},
		{"key": "serial", "type": "string"}], "action_timeout": 180}`)
	loop := `{"unique_name": "definition_activity_loop", "name": "For Each", "type": "logic.for_each", "base_type": "activity",
		"object_type": "definition_activity", "properties": {"source_array": ` + jsonText(actRef("read", "read_table_from_json")) + `},
		"actions": [` + add + `]}`
	res, rec := runExport(t, exportJSON(vars, read, loop), nil)
	if res.Status != "succeeded" {
		t.Fatalf("run %s: %s", res.Status, res.Error)
	}
	want := []any{
		map[string]any{"name": "uplink", "id": int64(1), "serial": ""},
		map[string]any{"name": "desk", "id": int64(2), "serial": ""},
		map[string]any{"name": "printer", "id": int64(10), "serial": ""},
	}
	if got := res.Outputs["variable_workflow_tbl"]; !reflect.DeepEqual(got, want) {
		t.Errorf("table %#v, want %#v", got, want)
	}
	if r := rec.of(t, "add"); r.Input["row"] == nil {
		t.Errorf("row not recorded: %v", r.Input)
	}

	bad := runActivity(t, "core.addrowtotable", `{"input_table": `+jsonText(actRef("read", "read_table_from_json"))+`, "row": []}`)
	if !strings.Contains(failed(bad), "activity's output table cannot be changed") {
		t.Errorf("activity table: %q", failed(bad))
	}
}
