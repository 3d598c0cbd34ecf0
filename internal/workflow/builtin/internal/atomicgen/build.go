// Package atomicgen writes the built-in Meraki atomics as Cisco Workflows
// export files. The files under builtin/atomics are its output (go
// generate ./internal/workflow/builtin); a test keeps them in step.
//
// Each atomic is built from the activity types every engine of the format
// runs (meraki.api_request, corejava.jsonpathquery, Set Variables,
// conditions, For Each, Group, Completed and atomic calls), so the files
// are data the engine imports like any customer's export.
package atomicgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
)

// M is one JSON object of the export.
type M = map[string]any

// Var is one workflow variable.
type Var struct {
	ID       string
	Name     string
	Scope    string // input, output, local
	Type     string // string, integer, boolean, array
	Desc     string
	Value    any
	Required bool
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID makes a 35-character id in the format's alphabet, the same for the
// same seed, so the files only change when the atomics do. Built-in ids
// start with "02GF", which no Cisco id of the samples does.
func newID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	n := new(big.Int).SetBytes(sum[:])
	out := []byte("02GF")
	b62 := big.NewInt(62)
	m := new(big.Int)
	for len(out) < 35 {
		n.DivMod(n, b62, m)
		out = append(out, base62[m.Int64()])
	}
	return string(out)
}

// builder builds one atomic.
type builder struct {
	wid    string
	slug   string
	vars   []Var
	acts   int
	byName map[string]Var
}

func newBuilder(slug, wid string) *builder {
	return &builder{wid: wid, slug: slug, byName: map[string]Var{}}
}

// v declares a variable; an empty id makes a new one.
func (b *builder) v(id, scope, typ, name, desc string, value any) Var {
	if id == "" {
		id = "variable_workflow_" + newID(b.wid+"/"+scope+"/"+name)
	}
	if value == nil {
		switch typ {
		case "string":
			value = ""
		case "integer":
			value = 0
		case "boolean":
			value = false
		case "array":
			value = []any{}
		}
	}
	x := Var{ID: id, Name: name, Scope: scope, Type: typ, Desc: desc, Value: value}
	b.vars = append(b.vars, x)
	b.byName[name] = x
	return x
}

// ref is the reference to a variable.
func (b *builder) ref(x Var) string {
	return "$workflow." + b.wid + "." + x.Scope + "." + x.ID + "$"
}

func (b *builder) activity(typ, name, title string, props M) M {
	b.acts++
	id := "definition_activity_" + newID(fmt.Sprintf("%s/%d", b.wid, b.acts))
	p := M{"continue_on_failure": false, "skip_execution": false, "display_name": title}
	for k, v := range props {
		p[k] = v
	}
	base := "activity"
	if typ == "workflow.atomic_workflow" {
		base = "subworkflow"
	}
	return M{"unique_name": id, "name": name, "title": title, "type": typ, "base_type": base,
		"properties": p, "object_type": "definition_activity"}
}

// out is a reference to an activity's output field.
func out(a M, field string) string {
	return "$activity." + a["unique_name"].(string) + ".output." + field + "$"
}

// item is the current item of a For Each loop.
func item(loop M) string {
	return "$activity." + loop["unique_name"].(string) + ".input.source_array[@]$"
}

func (b *builder) api(title, method, url, body string) M {
	if body == "" {
		body = "{\n\t\n}"
	}
	return b.activity("meraki.api_request", "Generic Meraki API Request", title, M{
		"action_timeout": 180, "api_method": method, "api_url": url, "api_body": body,
		"runtime_user": M{"target_default": true}, "target": M{"use_workflow_target": true},
	})
}

// query is one JSONPath query: name, path and type.
type query struct{ name, path, typ string }

func (b *builder) jsonpath(title, input string, queries ...query) M {
	qs := make([]any, len(queries))
	for i, q := range queries {
		qs[i] = M{"jsonpath_query": q.path, "jsonpath_query_name": q.name, "jsonpath_query_type": q.typ,
			"zdate_type_format": "yyyy-MM-dd'T'HH:mm:ssZ"}
	}
	// Absence is normal (an empty answer, a field Meraki leaves out): the
	// caller checks output.succeeded.
	return b.activity("corejava.jsonpathquery", "JSONPath Query", title, M{
		"action_timeout": 180, "continue_on_failure": true, "input_json": input, "jsonpath_queries": qs,
	})
}

// assign is one Set Variables entry.
type assign struct {
	to    Var
	value any
}

func (b *builder) set(title string, as ...assign) M {
	list := make([]any, len(as))
	for i, a := range as {
		list[i] = M{"variable_to_update": b.ref(a.to), "variable_value_new": a.value}
	}
	return b.activity("core.set_multiple_variables", "Set Variables", title, M{"variables_to_update": list})
}

func (b *builder) ifElse(title string, branches ...M) M {
	a := b.activity("logic.if_else", "Condition Block", title, M{"conditions": []any{}})
	a["blocks"] = branches
	return a
}

func (b *builder) branch(title string, cond M, actions ...M) M {
	a := b.activity("logic.condition_block", "Condition Branch", title, M{"condition": cond})
	a["actions"] = nonNil(actions)
	return a
}

func (b *builder) group(title string, actions ...M) M {
	a := b.activity("logic.group", "Group", title, M{"display_as_suggestion": false})
	a["actions"] = nonNil(actions)
	return a
}

func (b *builder) forEach(title, source string, body func(loop M) []M) M {
	a := b.activity("logic.for_each", "For Each", title, M{"source_array": source})
	a["actions"] = nonNil(body(a))
	return a
}

func (b *builder) completed(title string, ok bool, message string) M {
	kind := "failed-completed"
	if ok {
		kind = "succeeded"
	}
	return b.activity("logic.completed", "Completed", title, M{"completion_type": kind, "result_message": message})
}

// call runs another built-in atomic with the workflow's target.
func (b *builder) call(title string, callee *Atomic, input M, continueOnFailure bool) M {
	return b.activity("workflow.atomic_workflow", callee.Name, title, M{
		"continue_on_failure": continueOnFailure, "input": input, "workflow_id": callee.ID, "workflow_name": callee.Name,
		"runtime_user": M{"target_default": true}, "target": M{"target_type": "meraki.endpoint", "use_workflow_target": true},
	})
}

func nonNil(l []M) []M {
	if l == nil {
		return []M{}
	}
	return l
}

// Conditions.
func cond(left any, op string, right any) M {
	return M{"left_operand": left, "operator": op, "right_operand": right}
}
func and(a, c M) M { return cond(a, "and", c) }
func or(a, c M) M  { return cond(a, "or", c) }

// Atomic is one built-in atomic: its export and what the README says of it.
type Atomic struct {
	Slug        string
	ID          string
	Name        string
	IsAtomic    bool // false for the two Cisco calls as workflow.sub_workflow
	SubWorkflow bool
	Desc        string
	Operations  []string // Meraki operationIds it calls
	Vars        []Var
	Actions     []M
}

// export is the file's JSON.
func (a *Atomic) export() ([]byte, error) {
	vars := make([]any, len(a.Vars))
	for i, x := range a.Vars {
		p := M{"value": x.Value, "scope": x.Scope, "name": x.Name, "type": "datatype." + x.Type, "description": x.Desc,
			"is_required": x.Required, "display_on_wizard": false, "is_invisible": false}
		if x.Type == "string" {
			p["variable_string_format"] = "text"
		}
		schema := "datatype." + x.Type
		if x.Type == "array" {
			schema = "variable_type_array_01JhSTW61I3ZU2IfL7dwQox83eFDzE1qUiA"
			p["type"] = "datatype.array"
		}
		vars[i] = M{"schema_id": schema, "properties": p, "unique_name": x.ID, "object_type": "variable_workflow"}
	}
	props := M{
		"atomic":                   M{"atomic_group": "Cisco Meraki", "is_atomic": a.IsAtomic},
		"delete_workflow_instance": false,
		"description":              a.Desc,
		"display_name":             a.Name,
		"runtime_user":             M{"target_default": true},
		"target":                   M{"target_type": "meraki.endpoint", "specify_on_workflow_start": true},
	}
	wf := M{"workflow": M{
		"unique_name": a.ID, "name": a.Name, "title": a.Name, "type": "generic.workflow", "base_type": "workflow",
		"variables": vars, "properties": props, "object_type": "definition_workflow", "actions": a.Actions,
		"categories": []any{},
	}}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(wf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Files returns every atomic's export, by file name.
func Files() (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, a := range All() {
		b, err := a.export()
		if err != nil {
			return nil, fmt.Errorf("atomicgen: %s: %w", a.Slug, err)
		}
		files[a.Slug+".json"] = b
	}
	return files, nil
}
