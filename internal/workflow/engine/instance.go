package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// instance is one running workflow: the main one, or an atomic or
// sub-workflow a call started.
type instance struct {
	rs     *runState
	prog   *program
	path   string // replay key prefix
	id     string // instance_id
	target *Target
	start  time.Time

	mu      sync.RWMutex
	vars    map[string]any    // by variable id, and the built-in outputs
	outputs map[string]Output // by activity id
	items   map[string]any    // loop items by loop activity id
	occ     map[string]int    // executions by activity id (replay keys)
}

func (rs *runState) newInstance(wf *export.Workflow, path, id string, target *Target, inputs map[string]any) (*instance, error) {
	p := rs.e.program(wf)
	in := &instance{rs: rs, prog: p, path: path, id: id, target: target, start: rs.e.cfg.Now(),
		vars: make(map[string]any, len(wf.Variables)+2), outputs: map[string]Output{}, items: map[string]any{}, occ: map[string]int{}}
	if path == "" {
		in.start = rs.r.StartTime
	}
	var missing []string
	for _, v := range wf.Variables {
		val := v.Value
		if v.Scope == export.ScopeInput {
			if given, ok := lookupInput(inputs, v.ID); ok {
				val = given
			} else if v.Required && empty(v.Value) {
				missing = append(missing, v.Name)
			}
		}
		cv, err := coerce(v, val)
		if err != nil {
			return in, fmt.Errorf("input %q: %w", v.Name, err)
		}
		in.vars[v.ID] = cv
	}
	if len(missing) > 0 {
		return in, fmt.Errorf("%s needs a value for %s", wf.Name, strings.Join(missing, ", "))
	}
	return in, nil
}

// lookupInput finds an input by variable id, or by its id suffix (one
// real export passes atomic inputs without the variable_workflow_ prefix).
func lookupInput(inputs map[string]any, id string) (any, bool) {
	if v, ok := inputs[id]; ok {
		return v, true
	}
	if rest, ok := strings.CutPrefix(id, "variable_workflow_"); ok {
		v, ok := inputs[rest]
		return v, ok
	}
	return nil, false
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == "" || x == export.Mask
	case []any:
		return len(x) == 0
	}
	return false
}

func (in *instance) run(ctx context.Context) error {
	for _, n := range in.prog.nodes {
		if err := in.exec(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

func (in *instance) setOutput(id string, out Output) {
	in.mu.Lock()
	in.outputs[id] = out
	in.mu.Unlock()
}

// outputVars are the instance's output variables by id.
func (in *instance) outputVars() map[string]any {
	in.mu.RLock()
	defer in.mu.RUnlock()
	out := map[string]any{}
	for _, v := range in.prog.wf.Variables {
		if v.Scope == export.ScopeOutput {
			out[v.ID] = in.vars[v.ID]
		}
	}
	return out
}

func (in *instance) resultsMessage() string {
	in.mu.RLock()
	defer in.mu.RUnlock()
	if s, ok := in.vars["workflow_results"].(string); ok {
		return s
	}
	return ""
}

// Resolve implements expr.Resolver for the instance.
func (in *instance) Resolve(r expr.Ref) (any, bool) {
	if !r.WellFormed() {
		return nil, false
	}
	switch r.Root {
	case "workflow":
		if len(r.Path) == 0 || r.Path[0].Kind != expr.StepField {
			return nil, false
		}
		name := r.Path[0].Field
		in.mu.RLock()
		v, ok := in.vars[name]
		in.mu.RUnlock()
		if !ok {
			if r.Scope == export.ScopeOutput && export.Builtin(name) {
				return in.builtin(name), true
			}
			if vv := in.prog.wf.Variable(name); vv != nil {
				in.mu.RLock()
				v, ok = in.vars[vv.ID]
				in.mu.RUnlock()
			}
			if !ok {
				return nil, false
			}
		}
		if len(r.Path) == 1 {
			return v, true
		}
		w, _ := expr.Walk(tableOf(v), r.Path[1:])
		return w, true
	case "activity":
		if r.Scope == "input" {
			if len(r.Path) < 2 || r.Path[1].Kind != expr.StepCurrent {
				return nil, true
			}
			in.mu.RLock()
			item := in.items[r.ID]
			in.mu.RUnlock()
			if len(r.Path) == 2 {
				return item, true
			}
			w, _ := expr.Walk(item, r.Path[2:])
			return w, true
		}
		in.mu.RLock()
		out := in.outputs[r.ID]
		in.mu.RUnlock()
		if out == nil {
			return nil, true
		}
		w, _ := expr.Walk(out, r.Path)
		return w, true
	case "global":
		in.rs.mu.RLock()
		v := in.rs.r.Globals[r.ID]
		in.rs.mu.RUnlock()
		return walkRest(v, r.Path), true
	case "env":
		return walkRest(in.rs.r.Env[r.ID], r.Path), true
	case "trigger":
		w, _ := expr.Walk(in.rs.r.Trigger[r.ID], r.Path)
		return w, true
	}
	return nil, false
}

// walkRest walks a $global.X.global.X…$ path: the first step repeats the id.
func walkRest(v any, path []expr.Step) any {
	if len(path) <= 1 {
		return v
	}
	w, _ := expr.Walk(tableOf(v), path[1:])
	return w
}

// tableOf parses a JSON text variable when a path indexes into it
// ($workflow.…local.tableVar[0].id$ on a variable that holds JSON text).
func tableOf(v any) any {
	s, ok := v.(string)
	if !ok || s == "" || (s[0] != '[' && s[0] != '{') {
		return v
	}
	out, err := decodeJSON(s)
	if err != nil {
		return v
	}
	return out
}

// decodeJSON decodes JSON text as the export's values are: integers as
// int64 (ids longer than a float64 holds keep their digits), other
// numbers as float64.
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	return export.Normalize(out), nil
}

func (in *instance) builtin(name string) any {
	switch name {
	case "instance_id":
		return in.id
	case "start_time":
		return in.start.UTC().Format(time.RFC3339)
	case "started_by":
		return in.rs.r.StartedBy
	}
	return nil
}

// Value evaluates a template in this execution's instance.
func (x *X) Value(t expr.Template) any { return t.Value(x.in) }

// Text renders a template in this execution's instance.
func (x *X) Text(t expr.Template) string { return t.Render(x.in) }

// Eval evaluates a condition in this execution's instance.
func (x *X) Eval(cond any) (bool, error) { return expr.Eval(cond, x.in) }

// Resolver is the instance as an expr.Resolver.
func (x *X) Resolver() expr.Resolver { return x.in }

// Value evaluates a raw property: a string is a template (a single
// reference keeps its type), anything else is taken as it is.
func (x *X) Prop(v any) any {
	if s, ok := v.(string); ok {
		return expr.Parse(s).Value(x.in)
	}
	return v
}

// VariableType is the declared type of the variable a reference names
// ("" when it names none).
func (x *X) VariableType(r expr.Ref) string {
	if v := x.in.variable(r); v != nil {
		return v.Type
	}
	return ""
}

func (in *instance) variable(r expr.Ref) *export.Variable {
	if r.Root != "workflow" || len(r.Path) == 0 {
		return nil
	}
	name := r.Path[0].Field
	if v, ok := in.prog.vars[name]; ok {
		return v
	}
	return in.prog.wf.Variable(name)
}

// Value is a raw property prepared once, when an activity is compiled:
// a string's template is parsed then rather than on every execution.
type Value struct {
	raw  any
	tmpl expr.Template
	str  bool
}

// CompileValue prepares a raw property for [X.PropValue] and
// [X.AssignValue].
func CompileValue(raw any) Value {
	if s, ok := raw.(string); ok {
		return Value{raw: raw, tmpl: expr.Parse(s), str: true}
	}
	return Value{raw: raw}
}

// PropValue is [X.Prop] of a prepared property.
func (x *X) PropValue(v Value) any {
	if v.str {
		return v.tmpl.Value(x.in)
	}
	return v.raw
}

// Assign sets the variable a reference names to a value (a raw property:
// templates are evaluated, integer targets evaluate arithmetic) coerced
// to the variable's type (FORMAT.md §3.1).
func (x *X) Assign(target expr.Ref, raw any) error { return x.AssignValue(target, CompileValue(raw)) }

// AssignValue is [X.Assign] of a prepared property.
func (x *X) AssignValue(target expr.Ref, raw Value) error {
	in := x.in
	if !target.WellFormed() {
		return Failf("%s is not a variable reference", target.Raw)
	}
	switch target.Root {
	case "global":
		v := x.PropValue(raw)
		if err := x.checkSize(target.Raw, v); err != nil {
			return err
		}
		in.rs.mu.Lock()
		in.rs.r.Globals[target.ID] = v
		in.rs.mu.Unlock()
		return nil
	case "workflow":
	default:
		return Failf("%s cannot be assigned", target.Raw)
	}
	if len(target.Path) != 1 || target.Path[0].Kind != expr.StepField {
		return Failf("%s does not name a whole variable", target.Raw)
	}
	name := target.Path[0].Field
	def := in.variable(target)
	var val any
	switch {
	case def == nil && target.Scope == export.ScopeOutput && (name == "workflow_results" || name == "workflow_results_code"):
		val = x.PropValue(raw)
		if _, ok := val.(bool); !ok {
			val = expr.Text(val)
		}
	case def == nil:
		return Failf("%s names no variable of this workflow", target.Raw)
	case def.Scope == export.ScopeStatic:
		return Failf("%q is a static variable and cannot be changed", def.Name)
	default:
		name = def.ID
		v, err := x.typed(def, raw)
		if err != nil {
			return err
		}
		val = v
	}
	if err := x.checkSize(name, val); err != nil {
		return err
	}
	in.mu.Lock()
	in.vars[name] = val
	in.mu.Unlock()
	return nil
}

// typed evaluates raw for a variable of def's type.
func (x *X) typed(def *export.Variable, raw Value) (any, error) {
	if raw.str && isInteger(def) {
		t := raw.tmpl
		if _, single := t.Single(); single {
			v, err := coerce(def, t.Value(x.in))
			if err != nil {
				return nil, Failf("%q: %v", def.Name, err)
			}
			return v, nil
		}
		text := strings.TrimSpace(t.Render(x.in))
		if text == "" {
			return int64(0), nil
		}
		n, err := expr.Arith(text)
		if err != nil {
			return nil, Failf("%q: %q is not an integer expression: %v", def.Name, text, err)
		}
		return n, nil
	}
	v, err := coerce(def, x.PropValue(raw))
	if err != nil {
		return nil, Failf("%q: %v", def.Name, err)
	}
	return v, nil
}

func isInteger(v *export.Variable) bool { return v.Type == "datatype.integer" }

func (x *X) checkSize(name string, v any) error {
	limit := x.in.rs.e.cfg.Limits.VariableSize
	n := 0
	switch s := v.(type) {
	case string:
		n = len(s)
	case []any, map[string]any:
		n = len(expr.Text(s))
	}
	if n > limit {
		return &Failure{Message: fmt.Sprintf("%s would hold %d bytes; a variable holds at most %d", name, n, limit), Code: "variable_size"}
	}
	return nil
}

// coerce converts a value to a variable's declared type, leniently (real
// exports hold "true" in booleans and numbers in strings).
func coerce(def *export.Variable, v any) (any, error) {
	if i, ok := v.(int); ok {
		// A Go caller's input; the engine's values hold int64.
		v = int64(i)
	}
	switch def.Type {
	case "datatype.integer":
		switch x := v.(type) {
		case nil:
			return int64(0), nil
		case int64:
			return x, nil
		case float64:
			return int64(x), nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case string:
			s := strings.TrimSpace(x)
			if s == "" {
				return int64(0), nil
			}
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, nil
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return int64(f), nil
			}
			return nil, fmt.Errorf("%q is not an integer", x)
		}
		return nil, fmt.Errorf("a %s is not an integer", kindOf(v))
	case "datatype.number":
		switch x := v.(type) {
		case nil:
			return float64(0), nil
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		case string:
			s := strings.TrimSpace(x)
			if s == "" {
				return float64(0), nil
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", x)
			}
			return f, nil
		}
		return nil, fmt.Errorf("a %s is not a number", kindOf(v))
	case "datatype.boolean":
		switch x := v.(type) {
		case nil:
			return false, nil
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "1", "yes":
				return true, nil
			case "false", "0", "", "no":
				return false, nil
			}
			return nil, fmt.Errorf("%q is not true or false", x)
		case int64:
			return x != 0, nil
		}
		return nil, fmt.Errorf("a %s is not a boolean", kindOf(v))
	case "datatype.table", "datatype.array":
		switch x := v.(type) {
		case nil:
			return []any{}, nil
		case []any:
			return x, nil
		case string:
			if strings.TrimSpace(x) == "" {
				return []any{}, nil
			}
			out, err := decodeJSON(x)
			if err != nil {
				return nil, fmt.Errorf("not a JSON array: %w", err)
			}
			if l, ok := out.([]any); ok {
				return l, nil
			}
			return nil, errors.New("not a JSON array")
		}
		return []any{v}, nil
	default: // strings, secure strings, dates and unknown types hold text
		switch x := v.(type) {
		case nil:
			return "", nil
		case string:
			return x, nil
		}
		return expr.Text(v), nil
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "table"
	case map[string]any:
		return "JSON object"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}
