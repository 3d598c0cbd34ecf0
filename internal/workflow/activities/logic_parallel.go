package activities

import (
	"context"
	"errors"
	"sync"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// logic.parallel: its branches (logic.parallel_block) run concurrently and
// the activity ends when all have. Branches share the instance's
// variables; concurrent writes to one variable are each atomic and the
// last write wins. The first failure (in branch order) is the activity's.
var parallel = engine.Type{Name: "logic.parallel", Container: true, Compile: func(*export.Activity) (engine.Activity, error) {
	return engine.ActivityFunc(func(ctx context.Context, x *engine.X) (engine.Output, error) {
		blocks := x.Node().Blocks
		errs := make([]error, len(blocks))
		var wg sync.WaitGroup
		for i, b := range blocks {
			wg.Go(func() { errs[i] = x.RunNode(ctx, b) })
		}
		wg.Wait()
		// A wait for a person is reported only when no branch failed.
		var wait error
		for _, err := range errs {
			var w *engine.WaitError
			switch {
			case err == nil:
			case errors.As(err, &w):
				if wait == nil {
					wait = err
				}
			default:
				return nil, err
			}
		}
		return nil, wait
	}), nil
}}

// logic.parallel_block: one branch of a parallel.
var parallelBlock = engine.Type{Name: "logic.parallel_block", Container: true, Compile: func(*export.Activity) (engine.Activity, error) {
	return engine.ActivityFunc(func(ctx context.Context, x *engine.X) (engine.Output, error) {
		return nil, x.Run(ctx, x.Node().Actions)
	}), nil
}}
