package workflow

import (
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// TreeNode is one activity of a workflow's structure, as the workflow page
// and the API show it.
type TreeNode struct {
	ID       string     `json:"id"`
	Type     string     `json:"type"`
	Title    string     `json:"title"`
	Path     string     `json:"path"`
	Skipped  bool       `json:"skipped,omitempty"`
	Calls    string     `json:"calls,omitempty"`
	Children []TreeNode `json:"children,omitempty"`
}

// Tree is a workflow's activity tree.
func Tree(w *export.Workflow) []TreeNode { return tree(w.Actions) }

func tree(acts []*export.Activity) []TreeNode {
	out := make([]TreeNode, 0, len(acts))
	for _, a := range acts {
		n := TreeNode{ID: a.ID, Type: a.Type, Title: a.Label(), Path: a.Path, Skipped: a.SkipExecution, Children: tree(a.Children())}
		if a.Type == "workflow.atomic_workflow" || a.Type == "workflow.sub_workflow" {
			n.Calls, _ = a.Props["workflow_id"].(string)
		}
		out = append(out, n)
	}
	return out
}

// VariableView is one variable of a workflow.
type VariableView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Scope       string `json:"scope"`
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	Default     any    `json:"default"`
	Description string `json:"description,omitempty"`
}

func variablesOf(w *export.Workflow) []VariableView {
	out := make([]VariableView, 0, len(w.Variables))
	for _, v := range w.Variables {
		d := v.Value
		if v.Secure() {
			d = export.Mask
		}
		out = append(out, VariableView{ID: v.ID, Name: v.Name, Scope: v.Scope, Type: v.Type, Required: v.Required, Default: d, Description: v.Description})
	}
	return out
}
