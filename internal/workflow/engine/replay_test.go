package engine_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// Replay: a resumed run walks the tree again and takes each effect's
// recorded result instead of repeating it (package doc).

// calls counts the requests a test server received, by method and path.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

func (c *calls) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

// apiServer answers every request with its method, path and the number
// of requests so far, so a repeated request would show in the outputs.
func apiServer(t *testing.T) (*httptest.Server, *calls) {
	c := &calls{n: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.n[r.Method+" "+r.URL.Path]++
		n := 0
		for _, v := range c.n {
			n += v
		}
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"call": `+itoa(n)+`, "what": "`+r.Method+" "+r.URL.Path+`"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, c
}

func itoa(n int) string { return strconv.Itoa(n) }

// effects is a workflow of a Meraki POST and GET and a web-service POST,
// each inside a loop of two iterations, whose outputs collect the bodies.
func effects(t *testing.T) *export.File {
	vars := []wvar{{"log", "output", "datatype.string", ""}}
	lg := mref("output", "log")
	return build(t, vars, []act{forEach("loop", []any{"x", "y"},
		act{id: "blink", typ: "meraki.api_request", props: map[string]any{"api_method": "POST", "api_url": "/api/v1/devices/" + item("loop") + "/blink", "api_body": "{}"}},
		act{id: "status", typ: "meraki.api_request", props: map[string]any{"api_method": "GET", "api_url": "/api/v1/devices/" + item("loop")}},
		act{id: "hook", typ: "web-service.http_request", props: map[string]any{"method": "POST", "relative_url": "/hook/" + item("loop"), "body": "{}"}},
		set("note", lg, lg+"|"+out("blink", "response_body")+out("status", "response_body")+out("hook", "response_body")),
	)})
}

func TestReplayDoesNotRepeatEffects(t *testing.T) {
	t.Parallel()
	srv, c := apiServer(t)
	target := func(_ *engine.Config, r *engine.Run) {
		r.Target = &engine.Target{Type: "meraki.endpoint", BaseURL: srv.URL + "/api/v1"}
	}
	f := effects(t)
	first, rec := run(t, f, target)
	if first.Status != engine.RunSucceeded || c.total() != 6 {
		t.Fatalf("first run %s %q with %d requests", first.Status, first.Error, c.total())
	}

	// Resumed from every record: nothing is sent again, the outputs are
	// the same, and the records go on numbering after the first run's.
	again, rec2 := run(t, f, target, func(_ *engine.Config, r *engine.Run) { r.Journal, r.Seq = rec.journal(), first.Seq })
	if again.Status != engine.RunSucceeded || c.total() != 6 || !reflect.DeepEqual(again.Outputs, first.Outputs) {
		t.Errorf("replayed run %s %q with %d requests, outputs %v, want %v", again.Status, again.Error, c.total(), again.Outputs, first.Outputs)
	}
	j := rec.journal()
	seen := map[int]string{}
	for _, r := range rec2.started {
		// A record of the journal keeps its number or takes a new one.
		if old, ok := j[r.Key]; (!ok || old.Seq != r.Seq) && r.Seq <= first.Seq {
			t.Errorf("record %s numbered %d, not after %d", r.Key, r.Seq, first.Seq)
		}
		if k, dup := seen[r.Seq]; dup {
			t.Errorf("records %s and %s are both numbered %d", k, r.Key, r.Seq)
		}
		seen[r.Seq] = r.Key
	}
	if rec2.count("blink") != 0 || rec2.count("hook") != 0 || rec2.count("note") != 2 {
		t.Errorf("replay recorded blink %d, hook %d, note %d times, want effects not at all and the rest again",
			rec2.count("blink"), rec2.count("hook"), rec2.count("note"))
	}

	// An effect whose record says it started and never ended: a POST
	// may have acted, so the run fails; a GET is sent again.
	interrupted := func(key string) map[string]*engine.Record {
		j := rec.journal()
		r := *j[key]
		r.Status, r.Output, r.EndedAt = engine.StatusRunning, nil, r.StartedAt
		j[key] = &r
		return j
	}
	before := c.total()
	res, _ := run(t, f, target, func(_ *engine.Config, r *engine.Run) {
		r.Journal, r.Seq = interrupted("/definition_activity_blink#2"), first.Seq
	})
	if res.Status != engine.RunFailed || !strings.Contains(res.Error, "blink was interrupted while it ran") || c.total() != before {
		t.Errorf("interrupted POST: %s %q, %d requests sent", res.Status, res.Error, c.total()-before)
	}
	res, _ = run(t, f, target, func(_ *engine.Config, r *engine.Run) {
		r.Journal, r.Seq = interrupted("/definition_activity_status#2"), first.Seq
	})
	if res.Status != engine.RunSucceeded || c.total() != before+1 || c.get("GET /api/v1/devices/y") != 2 {
		t.Errorf("interrupted GET: %s %q, %d requests sent", res.Status, res.Error, c.total()-before)
	}
	if !strings.Contains(res.Outputs["variable_workflow_log"].(string), `"call": 7`) {
		t.Errorf("the repeated GET's answer is not in the outputs: %v", res.Outputs)
	}
}

func TestReplayPrompt(t *testing.T) {
	t.Parallel()
	srv, c := apiServer(t)
	target := func(_ *engine.Config, r *engine.Run) {
		r.Target = &engine.Target{Type: "meraki.endpoint", BaseURL: srv.URL + "/api/v1"}
	}
	vars := []wvar{{"choice", "output", "datatype.string", ""}, {"before", "output", "datatype.string", ""}}
	f := build(t, vars, []act{
		{id: "blink", typ: "meraki.api_request", props: map[string]any{"api_method": "POST", "api_url": "/api/v1/devices/d1/blink"}},
		set("keep", mref("output", "before"), out("blink", "response_body")),
		{id: "ask", typ: "task.prompt_request", props: map[string]any{"prompt_title": "Pick", "wait_for_prompt_response": true,
			"form_elements": []any{map[string]any{"form_element": "text", "form_label": "Label"}}}},
		set("read", mref("output", "choice"), out("ask", "prompt_response.Label")),
	})
	first, rec := run(t, f, target)
	if first.Status != engine.RunWaiting || first.Prompt == nil || first.Prompt.Key != "/definition_activity_ask#1" || rec.count("read") != 0 {
		t.Fatalf("first run %s %q %+v", first.Status, first.Error, first.Prompt)
	}
	j := rec.journal()
	j[first.Prompt.Key] = &engine.Record{Key: first.Prompt.Key, ActivityID: first.Prompt.ActivityID, Status: engine.StatusSucceeded,
		Output: engine.Output{"succeeded": true, "prompt_response": map[string]any{"Label": "x"}}}
	res, _ := run(t, f, target, func(_ *engine.Config, r *engine.Run) { r.Journal, r.Seq = j, first.Seq })
	if res.Status != engine.RunSucceeded || res.Outputs["variable_workflow_choice"] != "x" || c.total() != 1 ||
		!strings.Contains(res.Outputs["variable_workflow_before"].(string), `"call": 1`) {
		t.Errorf("resumed %s %q %v with %d requests", res.Status, res.Error, res.Outputs, c.total())
	}
	// Resumed before the answer: it waits again, asking the same.
	res, _ = run(t, f, target, func(_ *engine.Config, r *engine.Run) { r.Journal, r.Seq = rec.journal(), first.Seq })
	if res.Status != engine.RunWaiting || res.Prompt.Key != first.Prompt.Key || c.total() != 1 {
		t.Errorf("unanswered: %s %q", res.Status, res.Error)
	}
}
