package activities

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// core.sleep waits sleep_interval seconds: a number, numeric text or a
// reference to one (FORMAT.md §3.16). The wait ends early, as a
// success, when it would outlast the activity's action_timeout (or the
// run's time), and at once when the run is cancelled. It is an effect so
// that a resumed run does not wait again; one interrupted by a crash may
// simply wait again.
var sleep = engine.Type{Name: "core.sleep", Effect: true, Repeatable: func(*export.Activity) bool { return true }, Compile: func(a *export.Activity) (engine.Activity, error) {
	raw := a.Props["sleep_interval"]
	return engine.ActivityFunc(func(ctx context.Context, x *engine.X) (engine.Output, error) {
		secs, err := seconds(x.Prop(raw))
		if err != nil {
			return nil, err
		}
		x.Input("sleep_interval", secs)
		d := time.Duration(secs * float64(time.Second))
		if dl, ok := ctx.Deadline(); ok {
			// A margin, so the wait ends before the deadline cancels it.
			d = min(d, time.Until(dl)-50*time.Millisecond)
		}
		if d <= 0 {
			return nil, nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-t.C:
			return nil, nil
		}
	}), nil
}}

// seconds reads a sleep interval; blank is 0.
func seconds(v any) (float64, error) {
	var f float64
	switch n := v.(type) {
	case nil:
		return 0, nil
	case int64:
		f = float64(n)
	case float64:
		f = n
	case string:
		s := strings.TrimSpace(n)
		if s == "" {
			return 0, nil
		}
		p, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, engine.Failf("sleep_interval %q is not a number of seconds", n)
		}
		f = p
	default:
		return 0, engine.Failf("sleep_interval %s is not a number of seconds", expr.Text(v))
	}
	if math.IsNaN(f) || f < 0 {
		return 0, engine.Failf("sleep_interval %s is not a number of seconds", expr.Text(v))
	}
	return min(f, 1e6), nil
}
