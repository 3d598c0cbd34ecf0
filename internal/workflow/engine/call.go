package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/grantflow/grantflow/internal/workflow/export"
)

// targetFor resolves an activity-level properties.target (FORMAT.md §9.2).
func (in *instance) targetFor(spec map[string]any) (*Target, error) {
	if spec == nil {
		return in.target, nil
	}
	if b, _ := spec["no_target"].(bool); b {
		return nil, nil
	}
	if b, _ := spec["override_workflow_target"].(bool); b {
		if id, _ := spec["target_id"].(string); id != "" {
			return in.rs.target(id)
		}
	}
	return in.target, nil
}

// workflowTarget resolves a workflow's own properties.target when it is
// started by a call: a fixed target_id wins; otherwise the caller's.
func (rs *runState) workflowTarget(wf *export.Workflow, inherited *Target) (*Target, error) {
	if wf.Target != nil {
		if id, _ := wf.Target["target_id"].(string); id != "" {
			return rs.target(id)
		}
		if b, _ := wf.Target["no_target"].(bool); b {
			return nil, nil
		}
	}
	return inherited, nil
}

func (rs *runState) target(id string) (*Target, error) {
	if rs.r.Targets == nil {
		return nil, Failf("target %s is not known", id)
	}
	t, err := rs.r.Targets(id)
	if err != nil {
		return nil, &Failure{Message: fmt.Sprintf("target %s: %v", id, err)}
	}
	return t, nil
}

// Call runs another workflow synchronously as this activity's child
// (workflow.atomic_workflow and workflow.sub_workflow): inputs by the
// child's variable ids, target as the activity's properties.target says.
// The output is the child's output variables by id; a child that ends
// failed-completed or fails makes the call fail with its message.
func (x *X) Call(ctx context.Context, workflowID string, inputs map[string]any, spec map[string]any) (Output, error) {
	in := x.in
	if in.rs.r.Library == nil {
		return nil, Failf("workflow %s is not available", workflowID)
	}
	wf := in.rs.r.Library(workflowID)
	if wf == nil {
		return nil, Failf("workflow %s is neither in the file, nor imported, nor built in", workflowID)
	}
	if depth(in.path) > 32 {
		return nil, Failf("workflow calls are nested more than 32 deep")
	}
	t, err := in.targetFor(spec)
	if err != nil {
		return nil, err
	}
	if b, _ := spec["use_workflow_target"].(bool); !b {
		if t, err = in.rs.workflowTarget(wf, t); err != nil {
			return nil, err
		}
	}
	child, err := in.rs.newInstance(wf, x.rec.Key, in.rs.r.ID+"/"+x.rec.Key, t, inputs)
	if err != nil {
		return nil, &Failure{Message: err.Error()}
	}
	err = child.run(ctx)
	out := Output{}
	for k, v := range child.outputVars() {
		out[k] = v
	}
	var c *Completed
	switch {
	case err == nil:
	case errors.As(err, &c):
		if c.Failed {
			return out, &Failure{Message: c.Message, Code: "failed-completed"}
		}
	default:
		return out, err
	}
	return out, nil
}

func depth(path string) int {
	n := 0
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			n++
		}
	}
	return n
}
