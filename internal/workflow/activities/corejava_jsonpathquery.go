package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// jsonQuery is one entry of jsonpath_queries.
type jsonQuery struct {
	name string
	typ  string // string, integer, number, boolean, secure_string, date
	src  expr.Template
	path *jsonPath // compiled once when the path has no references
	date string    // zdate_type_format
}

// corejava.jsonpathquery ("JSONPath Query", FORMAT.md §3.7) evaluates
// each of jsonpath_queries on input_json (JSON text, or a value a typed
// activity decoded) and publishes the results under
// output.jsonpath_queries.<jsonpath_query_name>, coerced to
// jsonpath_query_type. The paths are Jayway's; see jsonpath.go for how
// they are read and where the library differs.
//
// What a query yields, before the coercion:
//
//   - a definite path ($.response.taskId): the value; nothing there fails
//     the activity ("No results for path", Jayway's PathNotFoundException).
//   - an indefinite path ($[*].name, $..[?(@.a=="b")].id): the list of
//     matches. A list of exactly one match is that match: exports splice
//     such results into URLs and JSON bodies
//     (/dna/intent/api/v2/network/<Site Id>), which works in the product
//     only if it unwraps them. No match is the empty list, as in Jayway,
//     not a failure; as a string it is "[]", and a non-string type fails.
//   - a trailing function ($.response.length()): its value.
//
// Coercion: string and secure_string hold text, arrays and objects as
// compact JSON in document order (later activities json.loads them);
// integer and number take numbers and numeric text (fractions cut toward
// zero for integer); boolean takes true/false and "true"/"false"; date
// reads the text with zdate_type_format (a Java SimpleDateFormat) or RFC
// 3339 and writes RFC 3339, and reads a number as epoch milliseconds.
//
// skip_path (false in every export seen) is taken to mean "a path that
// finds nothing is no failure": the query then yields its type's zero.
var jsonPathQuery = engine.Type{Name: "corejava.jsonpathquery", Compile: func(a *export.Activity) (engine.Activity, error) {
	input := textProp(a.Props, "input_json")
	list, _ := a.Props["jsonpath_queries"].([]any)
	queries := make([]jsonQuery, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("jsonpath_queries[%d] is not an object", i)
		}
		q := jsonQuery{
			name: expr.Text(m["jsonpath_query_name"]),
			typ:  strings.ToLower(expr.Text(m["jsonpath_query_type"])),
			src:  textProp(m, "jsonpath_query"),
			date: expr.Text(m["zdate_type_format"]),
		}
		if q.name == "" {
			return nil, fmt.Errorf("jsonpath_queries[%d] has no jsonpath_query_name", i)
		}
		if q.src.Literal() {
			p, err := compileJSONPath(q.src.String())
			if err != nil {
				return nil, fmt.Errorf("query %q: %w", q.name, err)
			}
			q.path = p
		}
		queries = append(queries, q)
	}
	skipRaw := a.Props["skip_path"]
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		in := x.Value(input)
		x.Input("input_json", in)
		skip, err := toBool(x.Prop(skipRaw))
		if err != nil {
			return nil, engine.Failf("skip_path: %v", err)
		}
		doc, err := jsonDoc(in)
		if err != nil {
			return nil, engine.Failf("%v", err)
		}
		results := make(map[string]any, len(queries))
		out := engine.Output{"jsonpath_queries": results}
		seen := make([]any, 0, len(queries))
		defer func() { x.Input("jsonpath_queries", seen) }()
		for _, q := range queries {
			p := q.path
			if p == nil {
				if p, err = compileJSONPath(x.Text(q.src)); err != nil {
					return out, engine.Failf("query %q: %v", q.name, err)
				}
			}
			seen = append(seen, map[string]any{"jsonpath_query_name": q.name, "jsonpath_query": p.src, "jsonpath_query_type": q.typ})
			v, err := q.run(p, doc, skip)
			if err != nil {
				return out, engine.Failf("query %q: %v", q.name, err)
			}
			results[q.name] = v
		}
		return out, nil
	}), nil
}}

func (q jsonQuery) run(p *jsonPath, doc any, skip bool) (any, error) {
	r, err := p.eval(doc)
	if err != nil {
		return nil, err
	}
	if !r.Found {
		if skip {
			return q.coerce(nil)
		}
		return nil, fmt.Errorf("no results for path %s", strings.TrimSpace(p.src))
	}
	v := r.Value
	if list, ok := v.([]any); ok && !r.Definite {
		switch {
		case len(list) == 1:
			v = list[0]
		case len(list) == 0 && skip:
			v = nil
		}
	}
	return q.coerce(v)
}

func (q jsonQuery) coerce(v any) (any, error) {
	switch q.typ {
	case "integer":
		n, err := toInt(plainScalar(v))
		return n, err
	case "number":
		f, err := toFloat(plainScalar(v))
		return f, err
	case "boolean":
		b, err := toBool(plainScalar(v))
		return b, err
	case "date":
		return dateText(plainScalar(v), q.date)
	}
	return toText(v), nil
}

// plainScalar is v for scalars and the engine's value for arrays and
// objects (whose coercion fails with their kind).
func plainScalar(v any) any {
	if _, ok := v.(*object); ok {
		return plain(v)
	}
	return v
}
