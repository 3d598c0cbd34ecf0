package export

import (
	"fmt"
	"sort"
	"strings"

	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// Report says what keeps a workflow from running. Runnable is true when
// all three lists are empty.
type Report struct {
	Broken      []Problem     `json:"broken"`
	Missing     []MissingCall `json:"missing"`
	Unsupported []Unsupported `json:"unsupported"`
}

// MissingCall is a called workflow found nowhere.
type MissingCall struct {
	WorkflowID string `json:"workflow_id"`
	Name       string `json:"name"`
}

// Unsupported is an activity of a type the engine cannot run.
type Unsupported struct {
	Path string `json:"path"`
	Type string `json:"type"`
}

// Runnable reports whether nothing keeps the workflow from running.
func (r Report) Runnable() bool {
	return len(r.Broken) == 0 && len(r.Missing) == 0 && len(r.Unsupported) == 0
}

// Normalized returns r with empty lists instead of nil ones (for JSON).
func (r Report) Normalized() Report {
	if r.Broken == nil {
		r.Broken = []Problem{}
	}
	if r.Missing == nil {
		r.Missing = []MissingCall{}
	}
	if r.Unsupported == nil {
		r.Unsupported = []Unsupported{}
	}
	return r
}

// Env is what a check knows beyond the file.
type Env struct {
	// Lookup finds a workflow by id outside the file: the tenant's
	// imported workflows, then the built-in ones. Nil finds nothing.
	Lookup func(id string) *Workflow
	// Supported reports whether the engine can run an activity type.
	Supported func(typ string) bool
	// EnvVariables are the $env.…$ variables the engine supplies.
	EnvVariables map[string]bool
}

// Check walks the file's main workflow and everything it calls (embedded,
// imported or built in), and reports references that resolve to nothing,
// sub-workflow cycles, unsupported activity types and called workflows
// found nowhere. Dependencies are computed by walking the trees; the
// file's own lists are not trusted.
func Check(f *File, env Env) Report {
	defs := f.Definitions()
	lookup := func(id string) *Workflow {
		if w, ok := defs[id]; ok {
			return w
		}
		if env.Lookup != nil {
			return env.Lookup(id)
		}
		return nil
	}
	c := &checker{f: f, env: env, lookup: lookup, state: map[string]int{}, missing: map[string]bool{}}
	c.visit(f.Workflow, nil)
	sort.SliceStable(c.r.Broken, func(i, j int) bool { return c.r.Broken[i].Path < c.r.Broken[j].Path })
	return c.r
}

type checker struct {
	f       *File
	env     Env
	lookup  func(id string) *Workflow
	state   map[string]int // 0 unseen, 1 on the stack, 2 done
	missing map[string]bool
	r       Report
}

func (c *checker) visit(w *Workflow, stack []string) {
	switch c.state[w.ID] {
	case 2:
		return
	case 1:
		c.r.Broken = append(c.r.Broken, Problem{w.Path, "sub-workflow cycle: " + strings.Join(append(stack, w.ID), " -> ")})
		return
	}
	c.state[w.ID] = 1
	stack = append(stack, w.ID)
	c.workflow(w)
	for _, call := range w.Calls() {
		if call.WorkflowID == "" {
			c.r.Broken = append(c.r.Broken, Problem{call.Activity.Path + ".properties.workflow_id", "the call names no workflow"})
			continue
		}
		child := c.lookup(call.WorkflowID)
		if child == nil {
			if !c.missing[call.WorkflowID] {
				c.missing[call.WorkflowID] = true
				c.r.Missing = append(c.r.Missing, MissingCall{WorkflowID: call.WorkflowID, Name: call.Name})
			}
			continue
		}
		if c.state[child.ID] == 1 {
			c.r.Broken = append(c.r.Broken, Problem{call.Activity.Path, "sub-workflow cycle: " + strings.Join(append(stack, child.ID), " -> ")})
			continue
		}
		c.visit(child, stack)
	}
	c.state[w.ID] = 2
}

// workflow checks one definition's activities and references. Only
// definitions from the file are checked for references: imported and
// built-in ones were checked when they came.
func (c *checker) workflow(w *Workflow) {
	inFile := c.f.Definitions()[w.ID] == w
	acts := map[string]*Activity{}
	Walk(w.Actions, func(a *Activity) { acts[a.ID] = a })
	Walk(w.Actions, func(a *Activity) {
		if c.env.Supported != nil && !c.env.Supported(a.Type) {
			c.r.Unsupported = append(c.r.Unsupported, Unsupported{Path: a.Path, Type: a.Type})
		}
		if !inFile {
			return
		}
		strs(a.Props, a.Path+".properties", func(path, s string) {
			for _, ref := range expr.Parse(s).Refs() {
				if msg := c.ref(w, acts, ref); msg != "" {
					c.r.Broken = append(c.r.Broken, Problem{path, msg})
				}
			}
		})
		if cond, ok := a.Props["condition"]; ok && a.Type == "logic.condition_block" {
			for _, p := range expr.CheckCondition(cond) {
				c.r.Broken = append(c.r.Broken, Problem{a.Path + ".properties.condition" + dotted(p.Path), p.Message})
			}
		}
	})
}

func dotted(p string) string {
	if p == "" {
		return ""
	}
	return "." + p
}

// ref says why a reference resolves to nothing, or "".
func (c *checker) ref(w *Workflow, acts map[string]*Activity, r expr.Ref) string {
	if !r.WellFormed() {
		return fmt.Sprintf("malformed reference %s", r.Raw)
	}
	switch r.Root {
	case "workflow":
		if len(r.Path) == 0 || r.Path[0].Kind != expr.StepField {
			return fmt.Sprintf("reference %s names no variable", r.Raw)
		}
		name := r.Path[0].Field
		if r.Scope == ScopeOutput && Builtin(name) {
			return ""
		}
		// A workflow reads only its own variables (a sub-workflow's are
		// written with the sub-workflow's id); the engine resolves nothing
		// else, so anything else is reported rather than left empty.
		if r.ID != w.ID {
			return fmt.Sprintf("reference %s names workflow %s, not %q, the workflow it is in", r.Raw, r.ID, w.Name)
		}
		if w.Variable(name) == nil {
			return fmt.Sprintf("reference %s names variable %s, which %q does not have", r.Raw, name, w.Name)
		}
	case "activity":
		a, ok := acts[r.ID]
		if !ok {
			return fmt.Sprintf("reference %s names activity %s, which is not in %q", r.Raw, r.ID, w.Name)
		}
		if r.Scope == "input" && a.Type != "logic.for_each" {
			return fmt.Sprintf("reference %s reads the loop item of %q, which is not a For Each", r.Raw, a.Label())
		}
	case "global":
		if _, ok := c.f.Variables[r.ID]; !ok {
			return fmt.Sprintf("reference %s names global variable %s, which the file does not define", r.Raw, r.ID)
		}
	case "env":
		if !c.env.EnvVariables[r.ID] {
			return fmt.Sprintf("reference %s names environment variable %s, which grantflow does not provide", r.Raw, r.ID)
		}
	case "trigger":
		if _, ok := c.f.Triggers[r.ID]; !ok {
			return fmt.Sprintf("reference %s names trigger %s, which the file does not define", r.Raw, r.ID)
		}
	}
	return ""
}

// Builtin reports whether name is one of a workflow's built-in output
// fields ($workflow.<id>.output.instance_id$ and the like).
func Builtin(name string) bool {
	switch name {
	case "instance_id", "start_time", "started_by", "workflow_results", "workflow_results_code":
		return true
	}
	return false
}

// strs calls fn for every string inside v, with its JSON path.
func strs(v any, path string, fn func(path, s string)) {
	switch x := v.(type) {
	case string:
		if strings.Contains(x, "$") {
			fn(path, x)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			strs(x[k], path+"."+k, fn)
		}
	case []any:
		for i, e := range x {
			strs(e, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}
