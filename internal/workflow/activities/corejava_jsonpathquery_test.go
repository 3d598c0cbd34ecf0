package activities_test

import (
	"reflect"
	"strings"
	"testing"
)

const catalystSites = `{"response": [
  {"id": "s1", "name": "Global", "groupNameHierarchy": "Global"},
  {"id": "s2", "name": "Paris", "groupNameHierarchy": "Global/France/Paris",
   "templates": [{"name": "base", "id": "t1"}, {"name": "edge", "id": "t2"}]},
  {"id": "s3", "name": "Lyon", "groupNameHierarchy": "Global/France/Lyon"}],
 "taskId": "task-9", "timeDuration": 42, "ok": "true",
 "cli": [{"username": "admin", "id": "c1"}, {"username": "ops", "id": "c2"}],
 "weather": [{"description": "light rain"}], "name": "Paris",
 "products": {"appliance": {"currentVersion": {"id": "v18", "shortName": "MX 18.1"}}},
 "executionId": "e-1", "data": [{"counts": [{"requests": 3}, {"requests": 9}, {"requests": 12}]}],
 "errors": null, "zed": 1, "alpha": 2}`

func TestJSONPathQuery(t *testing.T) {
	t.Parallel()
	users := `[{"id": 1, "name": "Leanne Graham", "email": "l@x"}, {"id": 2, "name": "Ervin Howell", "email": "e@x"}]`
	vlans := `[{"id": 10, "fixedIpAssignments": {"aa:bb": {"ip": "10.0.0.5"}}}, {"id": 20, "fixedIpAssignments": {}}]`
	tests := []struct {
		name, input, query, typ string
		vars                    []string
		want                    any
		fail                    string
	}{
		{name: "root as text", input: `{"b": 1, "a": [true, null]}`, query: "$", typ: "string", want: `{"b":1,"a":[true,null]}`},
		{name: "definite child", input: catalystSites, query: "$.taskId", typ: "string", want: "task-9"},
		{name: "integer", input: catalystSites, query: "$.timeDuration", typ: "integer", want: int64(42)},
		{name: "integer from text", input: `{"n": "17"}`, query: "$.n", typ: "integer", want: int64(17)},
		{name: "number", input: `{"n": 6.5}`, query: "$.n", typ: "number", want: 6.5},
		{name: "boolean from text", input: catalystSites, query: "$.ok", typ: "boolean", want: true},
		{name: "wildcard names as JSON text", input: users, query: "$[*].name", typ: "string", want: `["Leanne Graham","Ervin Howell"]`},
		{name: "deep filter single match unwrapped", input: catalystSites, query: `$..[?(@.groupNameHierarchy=="Global/France/Paris")].id`, typ: "string", want: "s2"},
		{name: "nested deep filters", input: catalystSites, query: `$.response..[?(@.name=="Paris")].templates..[?(@.name=="edge")]`, typ: "string", want: `{"name":"edge","id":"t2"}`},
		{name: "filter without parentheses", input: catalystSites, query: `$..cli[?@.username=="ops"]`, typ: "string", want: `{"username":"ops","id":"c2"}`},
		{name: "filter with spaces", input: catalystSites, query: `$.cli[?(@.username == "admin")].id`, typ: "string", want: "c1"},
		{name: "bracket notation without $", input: catalystSites, query: "['weather'][0]['description']", typ: "string", want: "light rain"},
		{name: "bracket name without $", input: catalystSites, query: "['name']", typ: "string", want: "Paris"},
		{name: "leading dot is a deep scan", input: catalystSites, query: ".products.appliance.currentVersion.shortName", typ: "string", want: "MX 18.1"},
		{name: "leading @ is the root", input: catalystSites, query: "@.executionId", typ: "string", want: "e-1"},
		{name: "numeric filter", input: catalystSites, query: "$.data[0].counts[?(@.requests >= 9)]", typ: "string", want: `[{"requests":9},{"requests":12}]`},
		{name: "existence filter with bracket key", input: vlans, query: "$[?(@.fixedIpAssignments['aa:bb'])].id", typ: "string", want: "10"},
		{name: "length function", input: catalystSites, query: "$.response.length()", typ: "integer", want: int64(3)},
		{name: "null value", input: catalystSites, query: "$.errors", typ: "string", want: ""},
		{name: "wildcard keeps document order", input: `{"z": 1, "a": 2, "m": 3}`, query: "$.*", typ: "string", want: "[1,2,3]"},
		{name: "indefinite no match is empty", input: users, query: `$[?(@.name=="Nobody")].id`, typ: "string", want: "[]"},
		{name: "definite missing fails", input: catalystSites, query: "$.response.missing", typ: "string", fail: "no results for path $.response.missing"},
		{name: "index out of range fails", input: users, query: "$[5].name", typ: "string", fail: "no results"},
		{name: "integer of text fails", input: catalystSites, query: "$.taskId", typ: "integer", fail: `"task-9" is not an integer`},
		{name: "integer of empty match fails", input: users, query: `$[?(@.id==9)].id`, typ: "integer", fail: "an array is not an integer"},
		{name: "invalid path", input: users, query: "$[?(@.id==", typ: "string", fail: "is not valid"},
		{name: "not JSON", input: "<html>Bad Gateway</html>", query: "$", typ: "string", fail: "the input is not JSON"},
		{name: "empty input", input: "", query: "$", typ: "string", fail: "the input JSON is empty"},
		{name: "date", input: `{"d": "2024-03-01T10:00:00+0100"}`, query: "$.d", typ: "date", want: "2024-03-01T10:00:00+01:00"},
		{
			name: "filter with a reference", input: users, typ: "string", want: "e@x",
			query: `$[?(@.name=='` + ref("input", "who") + `')].email`,
			vars:  []string{variable("who", "input", "datatype.string", "Ervin Howell")},
		},
		{
			name: "path is a reference", input: catalystSites, typ: "string", want: "task-9",
			query: ref("local", "path"),
			vars:  []string{variable("path", "local", "datatype.string", "$.taskId")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := append([]string{variable("json", "local", "datatype.string", tc.input)}, tc.vars...)
			props := `{"input_json": ` + jsonText(ref("local", "json")) + `, "continue_on_failure": false, "skip_execution": false,
				"jsonpath_queries": [{"jsonpath_query": ` + jsonText(tc.query) + `, "jsonpath_query_name": "Site Id",
				"jsonpath_query_type": ` + jsonText(tc.typ) + `, "zdate_type_format": "yyyy-MM-dd'T'HH:mm:ssZ"}], "skip_path": false}`
			r := runActivity(t, "corejava.jsonpathquery", props, vars...)
			if tc.fail != "" {
				if !strings.Contains(failed(r), tc.fail) {
					t.Fatalf("error %q, want it to say %q", failed(r), tc.fail)
				}
				return
			}
			if msg := failed(r); msg != "" {
				t.Fatalf("failed: %s", msg)
			}
			got := r.Output["jsonpath_queries"].(map[string]any)["Site Id"]
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// A query's output feeds later activities by its name, spaces included;
// a typed body (already decoded) is queried as it is.
func TestJSONPathQueryOutputsFeedLaterActivities(t *testing.T) {
	t.Parallel()
	src := exportJSON(
		[]string{variable("out", "output", "datatype.string", ""), variable("n", "output", "datatype.integer", 0),
			variable("body", "local", "datatype.string", catalystSites)},
		activity("q1", "corejava.jsonpathquery", `{"input_json": `+jsonText(ref("local", "body"))+`,
			"jsonpath_queries": [{"jsonpath_query": "$.response[*].id", "jsonpath_query_name": "Site Ids", "jsonpath_query_type": "string"}]}`),
		activity("q2", "corejava.jsonpathquery", `{"input_json": `+jsonText(actRef("q1", "jsonpath_queries.Site Ids"))+`,
			"jsonpath_queries": [{"jsonpath_query": "$.length()", "jsonpath_query_name": "count", "jsonpath_query_type": "integer"}]}`),
		activity("set", "core.set_multiple_variables", `{"variables_to_update": [
			{"variable_to_update": `+jsonText(ref("output", "out"))+`, "variable_value_new": "ids: `+strings.ReplaceAll(actRef("q1", "jsonpath_queries.Site Ids"), `"`, `\"`)+`"},
			{"variable_to_update": `+jsonText(ref("output", "n"))+`, "variable_value_new": `+jsonText(actRef("q2", "jsonpath_queries.count"))+`}]}`),
	)
	res, _ := runExport(t, src, nil)
	if res.Status != "succeeded" {
		t.Fatalf("run %s: %s", res.Status, res.Error)
	}
	if got := res.Outputs["variable_workflow_out"]; got != `ids: ["s1","s2","s3"]` {
		t.Errorf("out = %q", got)
	}
	if got := res.Outputs["variable_workflow_n"]; got != int64(3) {
		t.Errorf("n = %#v", got)
	}
}

// With continue_on_failure the run goes on and the results found before
// the failing query stay readable.
func TestJSONPathQueryContinueOnFailure(t *testing.T) {
	t.Parallel()
	r := runActivity(t, "corejava.jsonpathquery", `{"input_json": `+jsonText(catalystSites)+`, "continue_on_failure": true,
		"jsonpath_queries": [{"jsonpath_query": "$.taskId", "jsonpath_query_name": "Task Id", "jsonpath_query_type": "string"},
		{"jsonpath_query": "$.nope", "jsonpath_query_name": "Nope", "jsonpath_query_type": "string"}]}`)
	if r.Output["succeeded"] != false {
		t.Fatalf("succeeded = %v", r.Output["succeeded"])
	}
	if got := r.Output["jsonpath_queries"].(map[string]any)["Task Id"]; got != "task-9" {
		t.Errorf("Task Id = %#v", got)
	}
	if r.Input["jsonpath_queries"] == nil || r.Input["input_json"] == nil {
		t.Errorf("inputs not recorded: %v", r.Input)
	}
}
