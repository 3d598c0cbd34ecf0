package builtin

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/grantflow/grantflow/internal/workflow/builtin/internal/atomicgen"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// appendixA are Cisco's atomics (FORMAT.md Appendix A): workflow id ->
// name; subWorkflows are the two called as workflow.sub_workflow.
var appendixA = map[string]string{
	"definition_workflow_02LA3KX0H7UMQ3yyicn2qcUy4gWmF7FBxQq": "Meraki - Get Device",
	"definition_workflow_02LLUYO87CIIF2MYkTzJpsPsYYOXZ5MUPA1": "Meraki - Get Device Switch Ports",
	"definition_workflow_02L9A58L99D8Q6CNvrbNWfw5UlyLLpkP3IW": "Meraki - Get Network",
	"definition_workflow_02L6HO3MVE3076LgocjRMWpLoMD5gmGIgIR": "Meraki - Get Network Appliance VLANs",
	"definition_workflow_02LCR4UKH38PM6zDR4Bx2b2J165gCF1mhvh": "Meraki - Get Network By Name",
	"definition_workflow_02LV1H3CNM49K1df7J02ad4wyV6Jv0E23b6": "Meraki - Get Network Firmware Upgrades",
	"definition_workflow_02OARCJ16WZTS5V0LlpWAeTm3Br5dYPREHG": "Meraki - Get Organization Appliance Uplink Statuses",
	"definition_workflow_02M605GS81XN44qr4RBWrJ6Zazk7k0ArIYX": "Meraki - Get Organization By Name",
	"definition_workflow_02LBZJE7PQZVJ3crE33ELBrscM7zWeiugTw": "Meraki - Get Organization Devices",
	"definition_workflow_02L9TZH5W95870XebPF2g8kSyIYcawUvljX": "Meraki - Get Organization Networks",
	"definition_workflow_02LV5GIDUTY3X0WhuidM5ZWhkjL8wQCGAPq": "Meraki - Get Organizations",
	"definition_workflow_02LLUSYK4J29K0l7bhU4PlTtgMFEdAMaXhi": "Meraki - Update Device Switch Port",
	"definition_workflow_02M3057KLFJ745Vm184muHicvBpdJ0s0vGF": "Meraki - Update Network Firmware Upgrades",
}

var subWorkflows = []string{"definition_workflow_02LCR4UKH38PM6zDR4Bx2b2J165gCF1mhvh", "definition_workflow_02M605GS81XN44qr4RBWrJ6Zazk7k0ArIYX"}

// allowed are the activity types the built-ins may use.
var allowed = []string{"meraki.api_request", "corejava.jsonpathquery", "core.set_multiple_variables", "logic.if_else",
	"logic.condition_block", "logic.completed", "logic.for_each", "logic.group", "python3.script", "workflow.atomic_workflow"}

type variable struct {
	UniqueName string `json:"unique_name"`
	Properties struct {
		Scope string `json:"scope"`
		Name  string `json:"name"`
		Type  string `json:"type"`
	} `json:"properties"`
}

type activity struct {
	UniqueName string         `json:"unique_name"`
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
	Blocks     []activity     `json:"blocks"`
	Actions    []activity     `json:"actions"`
}

type workflow struct {
	UniqueName string     `json:"unique_name"`
	Name       string     `json:"name"`
	Variables  []variable `json:"variables"`
	Properties struct {
		Atomic struct {
			IsAtomic bool `json:"is_atomic"`
		} `json:"atomic"`
		Target map[string]any `json:"target"`
	} `json:"properties"`
	Actions []activity `json:"actions"`
}

type file struct {
	Workflow     *workflow `json:"workflow"`
	Subworkflows []file    `json:"subworkflows"`
}

func (f file) workflows() []*workflow {
	out := []*workflow{f.Workflow}
	for _, s := range f.Subworkflows {
		out = append(out, s.workflows()...)
	}
	return out
}

func walk(acts []activity, fn func(a activity)) {
	for _, a := range acts {
		fn(a)
		walk(a.Blocks, fn)
		walk(a.Actions, fn)
	}
}

// loaded parses every built-in file, by workflow id.
func loaded(t *testing.T) map[string]*workflow {
	t.Helper()
	out := map[string]*workflow{}
	for name, b := range Files() {
		var f file
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Workflow == nil {
			t.Fatalf("%s: no top-level workflow", name)
		}
		out[f.Workflow.UniqueName] = f.Workflow
	}
	return out
}

// scopes maps a workflow's variable ids to their scopes.
func scopes(w *workflow) map[string]string {
	m := map[string]string{}
	for _, v := range w.Variables {
		m[v.UniqueName] = v.Properties.Scope
	}
	return m
}

func TestFilesAreAppendixAAtomics(t *testing.T) {
	t.Parallel()
	byID := loaded(t)
	if len(Files()) != len(appendixA) {
		t.Errorf("%d files, want %d", len(Files()), len(appendixA))
	}
	for id, name := range appendixA {
		w, ok := byID[id]
		if !ok {
			t.Errorf("no built-in %s (%s)", name, id)
			continue
		}
		if w.Name != name {
			t.Errorf("%s is named %q, want %q", id, w.Name, name)
		}
		if got, want := w.Properties.Atomic.IsAtomic, !slices.Contains(subWorkflows, id); got != want {
			t.Errorf("%s: is_atomic %v, want %v", name, got, want)
		}
		if w.Properties.Target["target_type"] != "meraki.endpoint" || w.Properties.Target["specify_on_workflow_start"] != true {
			t.Errorf("%s: target %v", name, w.Properties.Target)
		}
		walk(w.Actions, func(a activity) {
			if !slices.Contains(allowed, a.Type) {
				t.Errorf("%s: activity %s has type %s", name, a.UniqueName, a.Type)
			}
			if a.Type == "meraki.api_request" {
				if u, _ := a.Properties["api_url"].(string); !regexp.MustCompile(`^/api/v1/`).MatchString(u) {
					t.Errorf("%s: api_url %q", name, u)
				}
			}
		})
	}
}

// TestSampleCallsMatchInterfaces walks Cisco's sample exports for calls to
// the built-ins: every input they pass must be an input variable of the
// built-in, every output they read an output variable, and a call as
// workflow.sub_workflow must target a non-atomic workflow.
func TestSampleCallsMatchInterfaces(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("WORKFLOW_SAMPLES")
	if dir == "" {
		dir = "/work/shared/workflows/cisco-samples"
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(paths) == 0 {
		t.Skipf("no sample exports in %s (set WORKFLOW_SAMPLES)", dir)
	}
	byID := loaded(t)
	calls := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f file
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, caller := range f.workflows() {
			var all []activity
			walk(caller.Actions, func(a activity) { all = append(all, a) })
			for _, call := range all {
				id, _ := call.Properties["workflow_id"].(string)
				callee, ok := byID[id]
				if !ok || (call.Type != "workflow.atomic_workflow" && call.Type != "workflow.sub_workflow") {
					continue
				}
				calls++
				where := filepath.Base(p) + " " + call.UniqueName
				if call.Type == "workflow.sub_workflow" && callee.Properties.Atomic.IsAtomic {
					t.Errorf("%s calls %s as a sub-workflow, but it is atomic", where, callee.Name)
				}
				vars := scopes(callee)
				in, _ := call.Properties["input"].(map[string]any)
				for k := range in {
					if vars[k] != "input" {
						t.Errorf("%s passes %s, which is not an input of %s", where, k, callee.Name)
					}
				}
				refs := regexp.MustCompile(regexp.QuoteMeta("$activity."+call.UniqueName+".output.") + `(variable_workflow_\w+)\$`)
				for _, a := range all {
					pb, _ := json.Marshal(a.Properties)
					for _, m := range refs.FindAllSubmatch(pb, -1) {
						if vars[string(m[1])] != "output" {
							t.Errorf("%s: %s reads %s, which is not an output of %s", where, a.UniqueName, m[1], callee.Name)
						}
					}
				}
			}
		}
	}
	if calls == 0 {
		t.Error("no sample calls a built-in")
	}
}

// TestFilesAreGenerated keeps atomics/ in step with the generator.
func TestFilesAreGenerated(t *testing.T) {
	t.Parallel()
	want, err := atomicgen.Files()
	if err != nil {
		t.Fatal(err)
	}
	got := Files()
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("atomics/%s is stale: run go generate ./internal/workflow/builtin", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("atomics/%s is not generated", name)
		}
	}
}

// TestImportCheck runs the import check every customer export goes
// through: no broken reference, no missing call, no activity type beyond
// the allowed ones.
func TestImportCheck(t *testing.T) {
	t.Parallel()
	defs := map[string]*export.Workflow{}
	files := map[string]*export.File{}
	for name, b := range Files() {
		f, err := export.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		files[name] = f
		for id, w := range f.Definitions() {
			defs[id] = w
		}
	}
	env := export.Env{Lookup: func(id string) *export.Workflow { return defs[id] }, Supported: func(typ string) bool { return slices.Contains(allowed, typ) }}
	for name, f := range files {
		if r := export.Check(f, env); !r.Runnable() {
			b, _ := json.MarshalIndent(r, "", "  ")
			t.Errorf("%s: %s", name, b)
		}
	}
}
