// Package export reads and writes Cisco Workflows export files (the JSON a
// Cisco Workflows or SecureX orchestration "Export" button produces): the
// main workflow, its embedded sub-workflows (recursive, deduplicated by
// unique_name), the ids of the atomics it calls, and the side maps
// (categories, table types, targets, target groups, global variables and
// the trigger keys), which are kept as they came.
//
// Parse refuses a file that is not an export at all, with the JSON path of
// every problem. Everything else is accepted, because real exports are
// imperfect: [Check] lists what keeps a workflow from running (references
// to nothing, sub-workflow cycles, activity types the engine cannot run,
// called workflows found nowhere) without refusing the file.
package export

import (
	"time"
)

// File is one parsed export file.
type File struct {
	Workflow *Workflow
	// Subworkflows are the embedded definitions of every depth, each once
	// (the first occurrence wins), in file order.
	Subworkflows []*Workflow
	// AtomicWorkflows and DependentWorkflows are the file's own lists.
	// They are kept for the round trip; dependencies are computed by
	// walking the tree ([Workflow.Calls]), never taken from them.
	AtomicWorkflows    []string
	DependentWorkflows []string
	// Side maps, kept as they came (decoded JSON objects keyed by id).
	Categories   map[string]any
	TableTypes   map[string]any
	Targets      map[string]any
	TargetGroups map[string]any
	Variables    map[string]any // global variables
	Rules        map[string]any
	Webhooks     map[string]any
	Triggers     map[string]any
	Schedules    map[string]any
	Events       map[string]any
	RuntimeUsers map[string]any
	Calendars    map[string]any
}

// Workflow is one workflow definition: the main one, an embedded
// sub-workflow or a standalone atomic.
type Workflow struct {
	ID          string // unique_name: definition_workflow_…
	Name        string
	Title       string
	Description string
	Atomic      bool
	Variables   []*Variable
	// Target is properties.target as it came (nil when absent).
	Target  map[string]any
	Actions []*Activity
	// Raw is the whole definition as decoded, for export.
	Raw map[string]any
	// Path is where the definition sits in its file ("workflow",
	// "subworkflows[1].workflow", …).
	Path string
}

// Variable scopes.
const (
	ScopeInput  = "input"
	ScopeOutput = "output"
	ScopeLocal  = "local"
	ScopeStatic = "static"
	ScopeGlobal = "global"
)

// Variable is one workflow variable.
type Variable struct {
	ID          string // unique_name: variable_workflow_…
	Name        string // properties.name, the display name
	Scope       string
	Type        string // properties.type: datatype.string, datatype.integer, …, datatype.table
	SchemaID    string // schema_id: datatype.* or tabletype_… or the array type
	Value       any    // the default, normalised (see [Normalize])
	HasValue    bool
	Required    bool
	Invisible   bool
	Description string
	Path        string
}

// Secure reports whether the variable holds a secret.
func (v *Variable) Secure() bool {
	return v.Type == "datatype.secure_string" || v.SchemaID == "datatype.secure_string"
}

// Mask is what exports and grantflow show in place of a secret.
const Mask = "*****"

// Activity is one node of an actions tree.
type Activity struct {
	ID                string // unique_name: definition_activity_…
	Name              string // the palette label ("HTTP Request")
	Title             string
	Type              string // the dispatch key: web-service.http_request, …
	BaseType          string
	Props             map[string]any
	Blocks            []*Activity // logic.if_else, logic.while, logic.parallel
	Actions           []*Activity // logic.condition_block, for_each, group, parallel_block
	SkipExecution     bool
	ContinueOnFailure bool
	// Timeout is properties.action_timeout (seconds); 0 when absent.
	Timeout time.Duration
	Path    string // JSON path in the file
}

// Children are the activity's blocks then its actions.
func (a *Activity) Children() []*Activity {
	if len(a.Blocks) == 0 {
		return a.Actions
	}
	if len(a.Actions) == 0 {
		return a.Blocks
	}
	return append(append([]*Activity(nil), a.Blocks...), a.Actions...)
}

// Label is how the activity is named to people: its title, else its
// display name, else its palette name.
func (a *Activity) Label() string {
	if a.Title != "" {
		return a.Title
	}
	if s, _ := a.Props["display_name"].(string); s != "" {
		return s
	}
	return a.Name
}

// Walk calls fn for every activity of the tree, depth first, in order.
func Walk(acts []*Activity, fn func(a *Activity)) {
	for _, a := range acts {
		fn(a)
		Walk(a.Blocks, fn)
		Walk(a.Actions, fn)
	}
}

// Variable returns the variable with the given id, or nil. An id given
// without the variable_workflow_ prefix matches by suffix, as one real
// export passes atomic inputs.
func (w *Workflow) Variable(id string) *Variable {
	for _, v := range w.Variables {
		if v.ID == id {
			return v
		}
	}
	for _, v := range w.Variables {
		if len(id) >= 20 && len(v.ID) > len(id) && v.ID[len(v.ID)-len(id):] == id {
			return v
		}
	}
	return nil
}

// Call is one call of another workflow from an activity.
type Call struct {
	Activity   *Activity
	WorkflowID string
	Name       string // properties.workflow_name, if any
	Sub        bool   // workflow.sub_workflow (else workflow.atomic_workflow)
}

// Calls lists the workflow calls in w's tree, in order.
func (w *Workflow) Calls() []Call {
	var out []Call
	Walk(w.Actions, func(a *Activity) {
		if a.Type != "workflow.atomic_workflow" && a.Type != "workflow.sub_workflow" {
			return
		}
		id, _ := a.Props["workflow_id"].(string)
		name, _ := a.Props["workflow_name"].(string)
		if name == "" {
			name = a.Name
		}
		out = append(out, Call{Activity: a, WorkflowID: id, Name: name, Sub: a.Type == "workflow.sub_workflow"})
	})
	return out
}

// Definitions is the file's workflow and its embedded ones, by id.
func (f *File) Definitions() map[string]*Workflow {
	m := make(map[string]*Workflow, 1+len(f.Subworkflows))
	for _, s := range f.Subworkflows {
		m[s.ID] = s
	}
	m[f.Workflow.ID] = f.Workflow
	return m
}
