package activities

import (
	"context"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// logic.if_else: the branches (logic.condition_block) are tried left to
// right and only the first whose condition holds runs; there is no else,
// and the vestigial properties.conditions is ignored (FORMAT.md §3.2).
var ifElse = engine.Type{Name: "logic.if_else", Container: true, Compile: func(a *export.Activity) (engine.Activity, error) {
	conds := make([]condition, len(a.Blocks))
	for i, b := range a.Blocks {
		conds[i] = compileCondition(b.Props["condition"])
	}
	return engine.ActivityFunc(func(ctx context.Context, x *engine.X) (engine.Output, error) {
		for i, b := range x.Node().Blocks {
			ok, err := conds[i].eval(x)
			if err != nil {
				return nil, engine.Failf("branch %q: %v", b.Def.Label(), err)
			}
			if ok {
				return nil, x.RunNode(ctx, b)
			}
		}
		return nil, nil
	}), nil
}}

// logic.condition_block: a branch of an if/else or the body of a while;
// running it runs its actions (its parent has evaluated the condition).
var conditionBlock = engine.Type{Name: "logic.condition_block", Container: true, Compile: func(*export.Activity) (engine.Activity, error) {
	return engine.ActivityFunc(func(ctx context.Context, x *engine.X) (engine.Output, error) {
		return nil, x.Run(ctx, x.Node().Actions)
	}), nil
}}

// condition is a branch's or loop's condition, compiled once; a
// condition that does not compile fails each time it is evaluated, as
// [engine.X.Eval] would.
type condition struct {
	c   *expr.Condition
	err error
}

func compileCondition(v any) condition {
	c, err := expr.CompileCondition(v, expr.Options{})
	return condition{c, err}
}

func (c condition) eval(x *engine.X) (bool, error) {
	if c.err != nil {
		return false, c.err
	}
	return c.c.Eval(x.Resolver())
}
