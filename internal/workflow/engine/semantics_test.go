package engine_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
)

// The steps every activity shares (FORMAT.md §2.6): skip_execution,
// continue_on_failure, action_timeout, start and end times.

func TestSkipExecution(t *testing.T) {
	t.Parallel()
	vars := []wvar{{"n", "output", "datatype.integer", 0}, {"after", "output", "datatype.boolean", false}}
	n := mref("output", "n")
	skipped := func(a act) act {
		if a.props == nil {
			a.props = map[string]any{}
		}
		a.props["skip_execution"] = true
		return a
	}
	f := build(t, vars, []act{
		skipped(act{id: "off", typ: "logic.group", actions: []act{
			set("inner", n, n+"+1"),
			{id: "nested", typ: "logic.group", actions: []act{set("deep", n, n+"+100")}},
		}}),
		set("on", n, n+"+10"),
		skipped(act{id: "done", typ: "logic.completed", props: map[string]any{"completion_type": "failed", "result_message": "should not end"}}),
		skipped(set("skippedSet", n, "999")),
		set("last", mref("output", "after"), true),
	})
	res, rec := run(t, f)
	if res.Status != engine.RunSucceeded {
		t.Fatalf("run %s: %s", res.Status, res.Error)
	}
	if res.Outputs["variable_workflow_n"] != int64(10) || res.Outputs["variable_workflow_after"] != true {
		t.Errorf("outputs %v: a skipped group ran, or a skipped Completed ended the run", res.Outputs)
	}
	for _, id := range []string{"off", "inner", "nested", "deep", "done", "skippedSet"} {
		if n := rec.count(id); n != 0 {
			t.Errorf("%s has %d records, want none", id, n)
		}
	}
}

// A failing activity: Set Variables of text that is no integer.
func failing(id string) act {
	return set(id, mref("local", "i"), "not a number")
}

func TestContinueOnFailure(t *testing.T) {
	t.Parallel()
	vars := []wvar{{"i", "local", "datatype.integer", 0}, {"ok", "output", "datatype.string", ""},
		{"msg", "output", "datatype.string", ""}, {"code", "output", "datatype.string", "unset"}, {"after", "output", "datatype.boolean", false}}
	read := set("read", mref("output", "ok"), out("bad", "succeeded"), mref("output", "msg"), out("bad", "error.message"),
		mref("output", "code"), out("bad", "error.code"), mref("output", "after"), true)

	t.Run("goes on", func(t *testing.T) {
		t.Parallel()
		bad := failing("bad")
		bad.props["continue_on_failure"] = true
		res, rec := run(t, build(t, vars, []act{bad, read}))
		if res.Status != engine.RunSucceeded {
			t.Fatalf("run %s: %s", res.Status, res.Error)
		}
		o := res.Outputs
		if o["variable_workflow_ok"] != "false" || !strings.Contains(o["variable_workflow_msg"].(string), `"not a number" is not an integer`) ||
			o["variable_workflow_code"] != "" || o["variable_workflow_after"] != true {
			t.Errorf("outputs %v", o)
		}
		if r := rec.of(t, "bad"); r.Status != engine.StatusFailed || r.Output["succeeded"] != false {
			t.Errorf("record %s %v", r.Status, r.Output)
		}
	})
	t.Run("fails the run", func(t *testing.T) {
		t.Parallel()
		res, rec := run(t, build(t, vars, []act{failing("bad"), read}))
		if res.Status != engine.RunFailed || !strings.HasPrefix(res.Error, "bad: ") || !strings.Contains(res.Error, "is not an integer") {
			t.Errorf("run %s %q, want failed naming the activity", res.Status, res.Error)
		}
		if rec.count("read") != 0 {
			t.Error("the run went on after a failure")
		}
	})
	t.Run("inside a container", func(t *testing.T) {
		t.Parallel()
		res, rec := run(t, build(t, vars, []act{{id: "g", typ: "logic.group", actions: []act{failing("bad")}}, read}))
		if res.Status != engine.RunFailed || !strings.HasPrefix(res.Error, "bad: ") {
			t.Errorf("run %s %q", res.Status, res.Error)
		}
		if r := rec.of(t, "g"); r.Status != engine.StatusFailed || rec.count("read") != 0 {
			t.Errorf("group %s, read ran %d times", r.Status, rec.count("read"))
		}
	})
}

func TestActionTimeout(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	vars := []wvar{{"code", "output", "datatype.string", ""}, {"msg", "output", "datatype.string", ""}}
	req := act{id: "slow", typ: "web-service.http_request", props: map[string]any{"method": "POST", "relative_url": "/slow",
		"action_timeout": 0.3, "continue_on_failure": true}}
	f := build(t, vars, []act{req, set("read", mref("output", "code"), out("slow", "error.code"), mref("output", "msg"), out("slow", "error.message"))})
	start := time.Now()
	res, _ := run(t, f, func(_ *engine.Config, r *engine.Run) { r.Target = &engine.Target{BaseURL: srv.URL} })
	took := time.Since(start)
	if res.Status != engine.RunSucceeded || res.Outputs["variable_workflow_code"] != "timeout" ||
		!strings.Contains(res.Outputs["variable_workflow_msg"].(string), "timed out after 300ms (action_timeout)") {
		t.Errorf("run %s %q, outputs %v", res.Status, res.Error, res.Outputs)
	}
	if took > 2*time.Second || calls.Load() == 0 {
		t.Errorf("took %s with %d calls, want the request cut at 300ms", took, calls.Load())
	}
}

func TestStartAndEndTimes(t *testing.T) {
	t.Parallel()
	vars := []wvar{{"s", "output", "datatype.string", ""}, {"e", "output", "datatype.string", ""}, {"gs", "output", "datatype.string", ""}}
	f := build(t, vars, []act{
		{id: "g", typ: "logic.group", actions: []act{{id: "nap", typ: "core.sleep", props: map[string]any{"sleep_interval": 0.05}}}},
		set("read", mref("output", "s"), out("nap", "start_time"), mref("output", "e"), out("nap", "end_time"), mref("output", "gs"), out("g", "end_time")),
	})
	res, rec := run(t, f)
	if res.Status != engine.RunSucceeded {
		t.Fatalf("run %s: %s", res.Status, res.Error)
	}
	var got [3]time.Time
	for i, k := range []string{"s", "e", "gs"} {
		v, _ := res.Outputs["variable_workflow_"+k].(string)
		tm, err := time.Parse(time.RFC3339Nano, v)
		if err != nil || !strings.HasSuffix(v, "Z") {
			t.Fatalf("%s = %q: %v", k, v, err)
		}
		got[i] = tm
	}
	if d := got[1].Sub(got[0]); d < 50*time.Millisecond || d > 2*time.Second {
		t.Errorf("the sleep took %s by its times", d)
	}
	if got[2].Before(got[1]) {
		t.Errorf("the group ended at %s, before its child at %s", got[2], got[1])
	}
	r := rec.of(t, "nap")
	if r.Output["start_time"] != r.StartedAt.UTC().Format(time.RFC3339Nano) || r.Output["end_time"] != r.EndedAt.UTC().Format(time.RFC3339Nano) {
		t.Errorf("output times %v %v, record %s %s", r.Output["start_time"], r.Output["end_time"], r.StartedAt, r.EndedAt)
	}
}

// The times are the engine's clock, in UTC, as RFC 3339 with the
// fraction's trailing zeros dropped.
func TestTimesFormat(t *testing.T) {
	t.Parallel()
	for _, tm := range []time.Time{
		time.Date(2025, 3, 1, 9, 5, 7, 0, time.UTC),
		time.Date(2025, 12, 31, 23, 59, 59, 120_000_000, time.FixedZone("CET", 3600)),
		time.Date(1999, 1, 2, 3, 4, 5, 123_456_789, time.UTC),
		time.Date(2030, 6, 7, 8, 9, 10, 1000, time.UTC),
	} {
		f := build(t, nil, []act{set("a")})
		_, rec := run(t, f, func(c *engine.Config, _ *engine.Run) { c.Now = func() time.Time { return tm } })
		want := tm.UTC().Format(time.RFC3339Nano)
		if r := rec.of(t, "a"); r.Output["start_time"] != want || r.Output["end_time"] != want {
			t.Errorf("%s: %v %v, want %s", tm, r.Output["start_time"], r.Output["end_time"], want)
		}
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	vars := []wvar{{"n", "output", "datatype.integer", 0}}
	n := mref("output", "n")
	f := build(t, vars, []act{while("loop", cond(n, "lt", 400),
		set("step", n, n+"+1"),
		act{id: "nap", typ: "core.sleep", props: map[string]any{"sleep_interval": 0.02}})})

	t.Run("while running", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(150*time.Millisecond, func() { cancel(engine.ErrCancelled) })
		start := time.Now()
		res, _ := runCtx(ctx, t, f)
		if res.Status != engine.RunCancelled || time.Since(start) > 2*time.Second {
			t.Errorf("run %s %q after %s, want cancelled", res.Status, res.Error, time.Since(start))
		}
		if got := res.Outputs["variable_workflow_n"].(int64); got == 0 || got >= 400 {
			t.Errorf("n = %d, want the loop stopped part way", got)
		}
	})
	t.Run("before it starts", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(engine.ErrCancelled)
		res, rec := runCtx(ctx, t, f)
		if res.Status != engine.RunCancelled || len(rec.ended) != 0 {
			t.Errorf("run %s with %d records", res.Status, len(rec.ended))
		}
	})
}
