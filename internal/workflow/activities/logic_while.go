package activities

import (
	"context"
	"errors"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// logic.while: its single logic.condition_block holds the loop condition,
// evaluated before each iteration, and the body (FORMAT.md §3.10).
var while = engine.Type{Name: "logic.while", Container: true, Compile: func(a *export.Activity) (engine.Activity, error) {
	if len(a.Blocks) != 1 {
		return nil, errors.New("a While Loop has exactly one condition block")
	}
	cond := compileCondition(a.Blocks[0].Props["condition"])
	return engine.ActivityFunc(func(ctx context.Context, x *engine.X) (engine.Output, error) {
		body := x.Node().Blocks[0]
		for i := 1; ; i++ {
			ok, err := cond.eval(x)
			if err != nil {
				return nil, engine.Failf("loop condition: %v", err)
			}
			if !ok {
				return engine.Output{"iterations": int64(i - 1)}, nil
			}
			if err := x.Iterate(i); err != nil {
				return nil, err
			}
			err = x.Run(ctx, body.Actions)
			switch {
			case errors.Is(err, engine.ErrBreak):
				return engine.Output{"iterations": int64(i)}, nil
			case err == nil, errors.Is(err, engine.ErrContinue):
			default:
				return nil, err
			}
		}
	}), nil
}}
