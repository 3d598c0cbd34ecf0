package export

import (
	"bytes"
	"encoding/json"
)

// Secret is a secure-string value a file carried in plain text.
type Secret struct {
	WorkflowID string
	VariableID string
	Value      string
}

// TakeSecrets removes the values of secure-string variables from every
// definition in f (and from global variables), leaving the mask, and
// returns the real ones (the masks "" and "*****" are not values). The
// caller seals them; nothing of them stays in f.
func (f *File) TakeSecrets() []Secret {
	var out []Secret
	for _, w := range append([]*Workflow{f.Workflow}, f.Subworkflows...) {
		for _, v := range w.Variables {
			if !v.Secure() {
				continue
			}
			if s, ok := v.Value.(string); ok && s != "" && s != Mask {
				out = append(out, Secret{WorkflowID: w.ID, VariableID: v.ID, Value: s})
			}
			if v.HasValue && v.Value != "" {
				v.Value = Mask
				setValue(w.Raw, v.ID, Mask)
			}
		}
	}
	for id, g := range f.Variables {
		gm, _ := g.(map[string]any)
		props, _ := gm["properties"].(map[string]any)
		schema, _ := gm["schema_id"].(string)
		typ, _ := props["type"].(string)
		if props == nil || (typ != "datatype.secure_string" && schema != "datatype.secure_string") {
			continue
		}
		if s, ok := props["value"].(string); ok && s != "" && s != Mask {
			out = append(out, Secret{VariableID: id, Value: s})
			props["value"] = Mask
		}
	}
	return out
}

func setValue(raw map[string]any, varID string, v any) {
	vars, _ := raw["variables"].([]any)
	for _, e := range vars {
		m, _ := e.(map[string]any)
		if m["unique_name"] != varID {
			continue
		}
		if props, ok := m["properties"].(map[string]any); ok {
			props["value"] = v
		}
	}
}

// Marshal writes f as an export file: the main workflow, every embedded
// definition once (flat), the computed dependency lists and the side maps
// as they came. Parse(Marshal(f)) gives the same workflow back.
func (f *File) Marshal() ([]byte, error) {
	top := map[string]any{"workflow": f.Workflow.Raw}
	if len(f.Subworkflows) > 0 {
		subs := make([]any, 0, len(f.Subworkflows))
		for _, s := range f.Subworkflows {
			subs = append(subs, map[string]any{"workflow": s.Raw})
		}
		top["subworkflows"] = subs
	}
	embedded := map[string]bool{}
	for _, s := range f.Subworkflows {
		embedded[s.ID] = true
	}
	var atomics, deps []any
	seen := map[string]bool{}
	for _, w := range append([]*Workflow{f.Workflow}, f.Subworkflows...) {
		for _, c := range w.Calls() {
			if c.WorkflowID == "" || seen[c.WorkflowID] {
				continue
			}
			seen[c.WorkflowID] = true
			deps = append(deps, c.WorkflowID)
			if !c.Sub && !embedded[c.WorkflowID] {
				atomics = append(atomics, c.WorkflowID)
			}
		}
	}
	if len(atomics) > 0 {
		top["atomic_workflows"] = atomics
	}
	if len(deps) > 0 {
		top["dependent_workflows"] = deps
	}
	for k, m := range map[string]map[string]any{
		"categories": f.Categories, "table_types": f.TableTypes, "targets": f.Targets,
		"target_groups": f.TargetGroups, "variables": f.Variables, "rules": f.Rules,
		"webhooks": f.Webhooks, "triggers": f.Triggers, "schedules": f.Schedules,
		"events": f.Events, "runtime_users": f.RuntimeUsers, "calendars": f.Calendars,
	} {
		if m != nil {
			top[k] = m
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(top); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
