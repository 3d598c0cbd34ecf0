package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Problem is one reason a file is not an export, or one item that keeps a
// workflow from running, with the JSON path it is at.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// NotExportError says a file is not an export at all.
type NotExportError struct{ Problems []Problem }

func (e *NotExportError) Error() string {
	msgs := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		msgs = append(msgs, p.Path+": "+p.Message)
	}
	return "not a workflow export: " + strings.Join(msgs, "; ")
}

// MaxFileSize bounds an export file.
const MaxFileSize = 32 << 20

// Parse reads one export file. A file that is not an export (not JSON, no
// workflow object, fields of the wrong JSON type where the engine needs
// them) returns a *NotExportError listing every problem with its JSON path.
func Parse(data []byte) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, &NotExportError{[]Problem{{"$", fmt.Sprintf("the file is larger than %d MB", MaxFileSize>>20)}}}
	}
	if !utf8.Valid(data) {
		return nil, &NotExportError{[]Problem{{"$", "the file is not UTF-8 text"}}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, &NotExportError{[]Problem{{"$", "not JSON: " + jsonError(data, err)}}}
	}
	if dec.More() {
		return nil, &NotExportError{[]Problem{{"$", "more than one JSON value in the file"}}}
	}
	raw = Normalize(raw)
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, &NotExportError{[]Problem{{"$", "the file must be a JSON object with a \"workflow\" key, not " + kind(raw)}}}
	}
	p := &parser{}
	f := p.file(top)
	if len(p.problems) > 0 {
		return nil, &NotExportError{p.problems}
	}
	return f, nil
}

func jsonError(data []byte, err error) string {
	var se *json.SyntaxError
	if ok := asSyntax(err, &se); ok {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("%s (line %d)", se.Error(), line)
	}
	return err.Error()
}

func asSyntax(err error, se **json.SyntaxError) bool {
	s, ok := err.(*json.SyntaxError) //nolint:errorlint // json returns it unwrapped
	if ok {
		*se = s
	}
	return ok
}

// Normalize turns decoded JSON (with json.Number) into the engine's values:
// integral numbers become int64, others float64.
func Normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, err := x.Float64()
		if err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 && !strings.ContainsAny(string(x), ".eE") {
			return int64(f)
		}
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = Normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = Normalize(e)
		}
		return x
	}
	return v
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

type parser struct {
	problems []Problem
	seen     map[string]bool
}

func (p *parser) bad(path, format string, args ...any) {
	p.problems = append(p.problems, Problem{path, fmt.Sprintf(format, args...)})
}

// obj returns m[key] as an object; absent or null is (nil, true).
func (p *parser) obj(m map[string]any, key, path string) (map[string]any, bool) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, true
	}
	o, ok := v.(map[string]any)
	if !ok {
		p.bad(path+"."+key, "must be an object, not %s", kind(v))
		return nil, false
	}
	return o, true
}

func (p *parser) list(m map[string]any, key, path string) []any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		p.bad(path+"."+key, "must be an array, not %s", kind(v))
		return nil
	}
	return l
}

func (p *parser) str(m map[string]any, key, path string, required bool) string {
	v, ok := m[key]
	if !ok || v == nil {
		if required {
			p.bad(path+"."+key, "is missing")
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		p.bad(path+"."+key, "must be a string, not %s", kind(v))
		return ""
	}
	if required && s == "" {
		p.bad(path+"."+key, "is empty")
	}
	return s
}

// flag reads a boolean property leniently: real exports hold "true" and
// "false" strings in places.
func flag(m map[string]any, key string) bool {
	switch v := m[key].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

func (p *parser) strings(m map[string]any, key, path string) []string {
	var out []string
	for i, e := range p.list(m, key, path) {
		s, ok := e.(string)
		if !ok {
			p.bad(fmt.Sprintf("%s.%s[%d]", path, key, i), "must be a string, not %s", kind(e))
			continue
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) file(top map[string]any) *File {
	f := &File{}
	wv, ok := top["workflow"]
	if !ok {
		p.bad("$", "no \"workflow\" key: an export has the workflow object at its top level")
		return nil
	}
	wm, ok := wv.(map[string]any)
	if !ok {
		p.bad("workflow", "must be an object, not %s", kind(wv))
		return nil
	}
	p.seen = map[string]bool{}
	f.Workflow = p.workflow(wm, "workflow")
	if f.Workflow != nil {
		p.seen[f.Workflow.ID] = true
	}
	p.subworkflows(f, top, "$")
	f.AtomicWorkflows = p.strings(top, "atomic_workflows", "$")
	f.DependentWorkflows = p.strings(top, "dependent_workflows", "$")
	maps := []struct {
		key string
		dst *map[string]any
	}{
		{"categories", &f.Categories}, {"table_types", &f.TableTypes}, {"targets", &f.Targets},
		{"target_groups", &f.TargetGroups}, {"variables", &f.Variables}, {"rules", &f.Rules},
		{"webhooks", &f.Webhooks}, {"triggers", &f.Triggers}, {"schedules", &f.Schedules},
		{"events", &f.Events}, {"runtime_users", &f.RuntimeUsers}, {"calendars", &f.Calendars},
	}
	for _, m := range maps {
		o, _ := p.obj(top, m.key, "$")
		*m.dst = o
	}
	for id, t := range f.Targets {
		tm, ok := t.(map[string]any)
		if !ok {
			p.bad("targets."+id, "must be an object, not %s", kind(t))
			continue
		}
		p.obj(tm, "properties", "targets."+id)
	}
	for id, v := range f.Variables {
		if _, ok := v.(map[string]any); !ok {
			p.bad("variables."+id, "must be an object, not %s", kind(v))
		}
	}
	return f
}

// subworkflows reads a subworkflows list (recursively) into f, each
// definition once.
func (p *parser) subworkflows(f *File, m map[string]any, path string) {
	for i, e := range p.list(m, "subworkflows", path) {
		ep := fmt.Sprintf("%s.subworkflows[%d]", path, i)
		if path == "$" {
			ep = fmt.Sprintf("subworkflows[%d]", i)
		}
		em, ok := e.(map[string]any)
		if !ok {
			p.bad(ep, "must be an object, not %s", kind(e))
			continue
		}
		wm, ok := p.obj(em, "workflow", ep)
		if !ok {
			continue
		}
		if wm == nil {
			p.bad(ep+".workflow", "is missing")
			continue
		}
		id, _ := wm["unique_name"].(string)
		if !p.seen[id] || id == "" {
			w := p.workflow(wm, ep+".workflow")
			if w != nil {
				p.seen[w.ID] = true
				f.Subworkflows = append(f.Subworkflows, w)
			}
		}
		p.subworkflows(f, em, ep)
		p.strings(em, "atomic_workflows", ep)
		p.strings(em, "dependent_workflows", ep)
	}
}

func (p *parser) workflow(m map[string]any, path string) *Workflow {
	w := &Workflow{Raw: m, Path: path}
	w.ID = p.str(m, "unique_name", path, true)
	w.Name = p.str(m, "name", path, false)
	w.Title = p.str(m, "title", path, false)
	props, _ := p.obj(m, "properties", path)
	if props != nil {
		w.Description = p.str(props, "description", path+".properties", false)
		if dn := p.str(props, "display_name", path+".properties", false); w.Name == "" {
			w.Name = dn
		}
		if at, _ := p.obj(props, "atomic", path+".properties"); at != nil {
			w.Atomic = flag(at, "is_atomic")
		}
		w.Target, _ = p.obj(props, "target", path+".properties")
	}
	if w.Name == "" {
		w.Name = w.Title
	}
	for i, v := range p.list(m, "variables", path) {
		vp := fmt.Sprintf("%s.variables[%d]", path, i)
		if vv := p.variable(v, vp); vv != nil {
			w.Variables = append(w.Variables, vv)
		}
	}
	w.Actions = p.activities(m, "actions", path)
	return w
}

func (p *parser) variable(v any, path string) *Variable {
	m, ok := v.(map[string]any)
	if !ok {
		p.bad(path, "must be an object, not %s", kind(v))
		return nil
	}
	out := &Variable{Path: path}
	out.ID = p.str(m, "unique_name", path, true)
	out.SchemaID = p.str(m, "schema_id", path, false)
	props, ok := p.obj(m, "properties", path)
	if !ok {
		return nil
	}
	if props == nil {
		p.bad(path+".properties", "is missing")
		return nil
	}
	pp := path + ".properties"
	out.Name = p.str(props, "name", pp, false)
	out.Scope = p.str(props, "scope", pp, false)
	out.Type = p.str(props, "type", pp, false)
	out.Description = p.str(props, "description", pp, false)
	out.Required = flag(props, "is_required")
	out.Invisible = flag(props, "is_invisible")
	if out.Type == "" {
		out.Type = out.SchemaID
	}
	switch out.Scope {
	case ScopeInput, ScopeOutput, ScopeLocal, ScopeStatic, ScopeGlobal:
	case "":
		out.Scope = ScopeLocal
	default:
		p.bad(pp+".scope", "unknown scope %q (input, output, local or static)", out.Scope)
	}
	out.Value, out.HasValue = props["value"]
	if out.Name == "" {
		out.Name = out.ID
	}
	return out
}

func (p *parser) activities(m map[string]any, key, path string) []*Activity {
	l := p.list(m, key, path)
	if len(l) == 0 {
		return nil
	}
	out := make([]*Activity, 0, len(l))
	for i, e := range l {
		ap := fmt.Sprintf("%s.%s[%d]", path, key, i)
		if a := p.activity(e, ap); a != nil {
			out = append(out, a)
		}
	}
	return out
}

func (p *parser) activity(v any, path string) *Activity {
	m, ok := v.(map[string]any)
	if !ok {
		p.bad(path, "must be an object, not %s", kind(v))
		return nil
	}
	a := &Activity{Path: path}
	a.ID = p.str(m, "unique_name", path, true)
	a.Name = p.str(m, "name", path, false)
	a.Title = p.str(m, "title", path, false)
	a.Type = p.str(m, "type", path, true)
	a.BaseType = p.str(m, "base_type", path, false)
	props, _ := p.obj(m, "properties", path)
	if props == nil {
		props = map[string]any{}
	}
	a.Props = props
	a.SkipExecution = flag(props, "skip_execution")
	a.ContinueOnFailure = flag(props, "continue_on_failure")
	switch t := props["action_timeout"].(type) {
	case int64:
		a.Timeout = time.Duration(t) * time.Second
	case float64:
		a.Timeout = time.Duration(t * float64(time.Second))
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(t)); err == nil {
			a.Timeout = time.Duration(n) * time.Second
		}
	}
	a.Blocks = p.activities(m, "blocks", path)
	a.Actions = p.activities(m, "actions", path)
	return a
}
