package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
)

func TestSleep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		interval        any
		timeout         int // action_timeout
		atLeast, atMost time.Duration
		failure         string
	}{
		{name: "number", interval: 0.3, atLeast: 300 * time.Millisecond, atMost: 2 * time.Second},
		{name: "numeric text", interval: " 0.3 ", atLeast: 300 * time.Millisecond, atMost: 2 * time.Second},
		{name: "reference", interval: ioRef("input", "wait"), atLeast: time.Second, atMost: 3 * time.Second},
		{name: "capped at the action timeout", interval: 600, timeout: 1, atLeast: 800 * time.Millisecond, atMost: 3 * time.Second},
		{name: "blank", interval: "", atMost: time.Second},
		{name: "not a number", interval: "soon", failure: `sleep_interval "soon" is not a number of seconds`, atMost: time.Second},
		{name: "negative", interval: -1, failure: "not a number of seconds", atMost: time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			props := map[string]any{"sleep_interval": tc.interval}
			if tc.timeout > 0 {
				props["action_timeout"] = tc.timeout
			}
			start := time.Now()
			r := ioOne(t, nil, "core.sleep", props, ioVar{"wait", "input", "datatype.integer", 1})
			took := time.Since(start)
			if msg := failed(r); tc.failure == "" && r.Status != engine.StatusSucceeded || tc.failure != "" && !strings.Contains(msg, tc.failure) {
				t.Errorf("%s %q, want failure %q", r.Status, msg, tc.failure)
			}
			if took < tc.atLeast || took > tc.atMost {
				t.Errorf("took %s, want between %s and %s", took, tc.atLeast, tc.atMost)
			}
		})
	}
}

func TestSleepCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(200*time.Millisecond, func() { cancel(engine.ErrCancelled) })
	start := time.Now()
	res, rec := ioRunCtx(ctx, t, ioExport(t, nil, ioAct{"a", "core.sleep", map[string]any{"sleep_interval": 60}}), nil)
	if res.Status != engine.RunCancelled || rec.of(t, "a").Status != engine.StatusCancelled || time.Since(start) > 2*time.Second {
		t.Errorf("%s after %s", res.Status, time.Since(start))
	}
}
