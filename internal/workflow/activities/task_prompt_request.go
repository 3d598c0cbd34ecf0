package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// task.prompt_request ("Create Prompt") asks people a question and waits
// for the answer (FORMAT.md §3.17). The activity only makes the wait: it
// returns an [engine.WaitError] with the rendered prompt_title and
// prompt_body, the assignees (templates, usually started_by), an expiry
// from expiration_date's relative_time, and one field per form_elements
// entry, whose options come from form_source_array (a table, an array or
// JSON text holding one; with form_option_label_key that column of each
// row). The run then stops waiting.
//
// The answer never reaches this code: the service records it as this
// activity's succeeded record, with output {"prompt_response": {<form
// label>: value}}, and resumes the run; the engine replays that record
// instead of running the activity again, so references to
// $activity.<id>.output.prompt_response.<form_label>$ see the answer.
//
// wait_for_prompt_response false is treated as true: grantflow has no
// prompt that lives on without a waiting run. assignee_roles,
// task_owner and task_requestor are not used.
var promptRequest = engine.Type{Name: "task.prompt_request", Effect: true, Repeatable: func(*export.Activity) bool { return true }, Compile: func(a *export.Activity) (engine.Activity, error) {
	str := func(k string) expr.Template { s, _ := a.Props[k].(string); return expr.Parse(s) }
	p := &promptCall{title: str("prompt_title"), body: str("prompt_body")}
	if l, ok := a.Props["assignees"].([]any); ok {
		for _, e := range l {
			if s, ok := e.(string); ok {
				p.assignees = append(p.assignees, expr.Parse(s))
			}
		}
	}
	fields, _ := a.Props["form_elements"].([]any)
	for i, e := range fields {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("form_elements[%d] is not an object", i)
		}
		label, _ := m["form_label"].(string)
		if strings.TrimSpace(label) == "" {
			return nil, fmt.Errorf("form_elements[%d] has no form_label", i)
		}
		kind, _ := m["form_element"].(string)
		key, _ := m["form_option_label_key"].(string)
		p.fields = append(p.fields, promptField{
			label: expr.Parse(label), kind: kind, key: key, source: m["form_source_array"],
			multiple: boolProp(m["allow_multiselect"]),
			required: boolProp(m["is_required"]) || boolProp(m["required"]),
		})
	}
	if exp, ok := a.Props["expiration_date"].(map[string]any); ok && boolProp(exp["is_relative_time"]) {
		p.expiry, _ = exp["relative_time"].(map[string]any)
	}
	return engine.ActivityFunc(p.run), nil
}}

type promptCall struct {
	title, body expr.Template
	assignees   []expr.Template
	fields      []promptField
	expiry      map[string]any // {duration, time_units}
}

type promptField struct {
	label              expr.Template
	kind, key          string
	source             any // raw form_source_array
	multiple, required bool
}

func (p *promptCall) run(_ context.Context, x *engine.X) (engine.Output, error) {
	pr := engine.Prompt{Title: x.Text(p.title), Body: x.Text(p.body)}
	for _, t := range p.assignees {
		if s := strings.TrimSpace(x.Text(t)); s != "" {
			pr.Assignees = append(pr.Assignees, s)
		}
	}
	for _, f := range p.fields {
		opts, err := options(x.Prop(f.source), f.key)
		if err != nil {
			return nil, engine.Failf("options of %q: %v", x.Text(f.label), err)
		}
		kind := f.kind
		if kind == "" {
			kind = "text"
		}
		pr.Fields = append(pr.Fields, engine.PromptField{Label: x.Text(f.label), Type: kind, Options: opts, Multiple: f.multiple, Required: f.required})
	}
	if p.expiry != nil {
		d, err := relativeTime(x.Prop(p.expiry["duration"]), p.expiry["time_units"])
		if err != nil {
			return nil, engine.Failf("expiration_date: %v", err)
		}
		if d > 0 {
			pr.Expires = x.Now().Add(d).UTC()
		}
	}
	x.Input("prompt_title", pr.Title)
	return nil, &engine.WaitError{Key: x.Key(), Prompt: pr}
}

// options lists a select's choices: each element's text, or its key
// column when key is set (a one-column row gives its only value).
func options(src any, key string) ([]string, error) {
	rows, err := elements(src)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		v := r
		if m, ok := r.(map[string]any); ok {
			switch {
			case key != "":
				v = m[key]
			case len(m) == 1:
				for _, only := range m {
					v = only
				}
			}
		}
		if s := expr.Text(v); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// relativeTime reads {duration, time_units}.
func relativeTime(n, units any) (time.Duration, error) {
	f, err := seconds(n)
	if err != nil {
		return 0, errors.New("the duration is not a number")
	}
	u, _ := units.(string)
	var unit time.Duration
	switch strings.TrimSuffix(strings.ToLower(strings.TrimSpace(u)), "s") {
	case "second":
		unit = time.Second
	case "minute":
		unit = time.Minute
	case "hour", "":
		unit = time.Hour
	case "day":
		unit = 24 * time.Hour
	case "week":
		unit = 7 * 24 * time.Hour
	default:
		return 0, fmt.Errorf("%q is not a unit of time", u)
	}
	// At most ten years: a prompt nobody answers has no use beyond that.
	if d := f * float64(unit); d < float64(maxExpiry) {
		return time.Duration(d), nil
	}
	return maxExpiry, nil
}

const maxExpiry = 10 * 365 * 24 * time.Hour
