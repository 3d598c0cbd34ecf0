package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// Schedules and webhooks that arrive in an import (FORMAT.md §8) become the
// tenant's, disabled: an author may import, but only a tenant_admin decides
// that something runs by itself on the Org-scoped token. A re-import of the
// same file leaves what the first made (maybe enabled since) as it is.

// importReason is the reason an imported schedule or webhook shows until a
// tenant_admin enables it.
const importReason = "imported disabled: a tenant_admin enables it"

// importTriggers makes the file's schedule triggers (SXO: triggers +
// schedules) and automation rules (rules + webhooks) the tenant's.
func (s *Service) importTriggers(ctx context.Context, t store.Tenant, w store.Workflow, f *export.File) error {
	if err := s.importSchedules(ctx, t, w, f); err != nil {
		return err
	}
	return s.importWebhooks(ctx, t, f)
}

func sortedIDs(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func str(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return v
}

func num(m map[string]any, k string) int {
	switch v := m[k].(type) {
	case int64:
		return int(v)
	case float64:
		return int(v)
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	}
	return 0
}

// importedSpec maps an SXO schedule's properties onto a calendar Spec.
// The reason is "" when the schedule can run as it is; otherwise it says
// why it stays disabled (enabling it is refused until it is fixed).
func importedSpec(props map[string]any, now time.Time) (Spec, string) {
	sp := Spec{Kind: SpecCalendar, Calendar: str(props, "calendar"), At: str(props, "starttime"), Zone: str(props, "timezone"),
		Times: num(props, "number_of_times"), Start: now}
	sp.Interval = time.Duration(num(props, "interval_hours"))*time.Hour + time.Duration(num(props, "interval_minutes"))*time.Minute
	if sp.At == "" {
		sp.At = "00:00"
	}
	if name, ok := CalendarName(sp.Calendar); ok {
		sp.Calendar = name
	} else {
		return sp, fmt.Sprintf("imported with the calendar %q, which grantflow does not know (it knows %s): it stays disabled",
			sp.Calendar, "calendar_recurring_1BMfMWvgiDhSjBQ7hTSyvz3NyVZ = daily")
	}
	if _, err := compile(sp); err != nil {
		return sp, "imported, but it cannot run as exported (" + Plain(err) + "): it stays disabled"
	}
	return sp, ""
}

func (s *Service) importSchedules(ctx context.Context, t store.Tenant, w store.Workflow, f *export.File) error {
	if len(f.Triggers) == 0 {
		return nil
	}
	ss, err := s.scheduleStore()
	if err != nil {
		return err
	}
	for _, id := range sortedIDs(f.Triggers) {
		tr, _ := f.Triggers[id].(map[string]any)
		if str(tr, "type") != "schedule" {
			continue // event triggers are kept in the export, not run (yet)
		}
		target := w
		if wid := str(tr, "workflow_id"); wid != "" && wid != w.UniqueName {
			other, err := s.wfs.LatestWorkflow(ctx, t.ID, wid)
			if errors.Is(err, store.ErrNotFound) {
				s.lg.WarnContext(ctx, "an imported schedule names a workflow the tenant does not have", "trigger", id, "workflow", wid)
				continue
			}
			if err != nil {
				return err
			}
			target = other
		}
		have, err := ss.ListSchedules(ctx, store.ScheduleFilter{TenantID: t.ID, UniqueName: target.UniqueName})
		if err != nil {
			return err
		}
		if slicesContainsExternal(have, id) {
			continue
		}
		sch, _ := f.Schedules[str(tr, "ref_id")].(map[string]any)
		props, _ := sch["properties"].(map[string]any)
		now := s.now()
		sp, reason := importedSpec(props, now)
		if sch == nil {
			reason = fmt.Sprintf("imported without its schedule %q: it stays disabled", str(tr, "ref_id"))
		}
		name := str(props, "display_name")
		if name == "" {
			name = str(tr, "name")
		}
		if name == "" {
			name = target.Name
		}
		sc := store.Schedule{ID: newID("sch_"), TenantID: t.ID, WorkflowID: target.ID, UniqueName: target.UniqueName, Name: name,
			Misfire: store.MisfireRunOnce, State: store.ScheduleActive, Source: "import", ExternalID: id, CreatedAt: now, UpdatedAt: now}
		if reason == "" {
			reason = importReason
			if c, err := compile(sp); err == nil {
				if next, ok := c.Next(now); ok {
					sc.NextDueAt = store.Micro(next)
				}
			}
		}
		sc.Reason = reason
		sc.Spec, _ = json.Marshal(sp)
		if err := ss.CreateSchedule(ctx, sc); err != nil {
			return fmt.Errorf("schedule %s: %w", id, err)
		}
		s.record(ctx, store.AuditEvent{Action: "workflow.schedule_imported", OrgID: t.OrgID, Target: sc.ID,
			Details: map[string]string{"tenant": t.ID, "workflow": target.UniqueName, "trigger": id, "spec": string(sc.Spec), "reason": reason}})
	}
	return nil
}

func slicesContainsExternal(list []store.Schedule, id string) bool {
	for _, sc := range list {
		if sc.ExternalID == id {
			return true
		}
	}
	return false
}

// webhookRule is one automation rule of a webhook, as the webhook's Rules
// column keeps it.
type webhookRule struct {
	ID        string         `json:"id"` // ruleevent_…
	Name      string         `json:"name"`
	Disabled  bool           `json:"disabled"`
	Workflows []ruleWorkflow `json:"workflows"`
}

// ruleWorkflow is one entry of a rule's workflows_config.
type ruleWorkflow struct {
	UniqueName string         `json:"unique_name"` // ref_id
	Disabled   bool           `json:"disabled"`
	Inputs     map[string]any `json:"inputs,omitempty"` // wf_input_variables, by variable id
}

func ruleFrom(id string, m map[string]any) (webhookRule, string) {
	props, _ := m["properties"].(map[string]any)
	r := webhookRule{ID: id, Name: str(props, "display_name")}
	if r.Name == "" {
		r.Name = str(m, "name")
	}
	d1, _ := m["disabled"].(bool)
	d2, _ := props["disabled"].(bool)
	r.Disabled = d1 || d2
	cfg, _ := props["workflows_config"].([]any)
	for _, c := range cfg {
		cm, _ := c.(map[string]any)
		rw := ruleWorkflow{UniqueName: str(cm, "ref_id")}
		rw.Disabled, _ = cm["disabled"].(bool)
		if in, ok := cm["wf_input_variables"].(map[string]any); ok && len(in) > 0 {
			rw.Inputs = in
		}
		if rw.UniqueName != "" {
			r.Workflows = append(r.Workflows, rw)
		}
	}
	return r, str(props, "webhook_id")
}

func (s *Service) importWebhooks(ctx context.Context, t store.Tenant, f *export.File) error {
	if len(f.Webhooks) == 0 && len(f.Rules) == 0 {
		return nil
	}
	ws, err := s.webhookStore()
	if err != nil {
		return err
	}
	rules := map[string][]webhookRule{}
	for _, id := range sortedIDs(f.Rules) {
		m, _ := f.Rules[id].(map[string]any)
		if typ := str(m, "type"); typ != "" && typ != "webhook.rule_event" {
			continue // only webhook rules appear in the exports
		}
		r, hook := ruleFrom(id, m)
		if hook != "" {
			rules[hook] = append(rules[hook], r)
		}
	}
	hooks := sortedIDs(f.Webhooks)
	for hook := range rules {
		if _, ok := f.Webhooks[hook]; !ok {
			hooks = append(hooks, hook) // a rule on a webhook another file brought
		}
	}
	for _, hook := range hooks {
		m, _ := f.Webhooks[hook].(map[string]any)
		props, _ := m["properties"].(map[string]any)
		now := s.now()
		cur, err := ws.GetWebhookByExternal(ctx, t.ID, hook)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if m == nil {
				s.lg.WarnContext(ctx, "an imported rule names a webhook the file does not carry", "webhook", hook)
				continue
			}
			name := str(props, "display_name")
			if name == "" {
				name = str(m, "name")
			}
			raw, _ := json.Marshal(mergeRules(nil, rules[hook]))
			wh := store.Webhook{ID: newID("wh_"), TenantID: t.ID, ExternalID: hook, Name: name, ContentType: str(props, "request_content_type"),
				Rules: raw, Reason: importReason + " and rotates its secret", Source: "import", CreatedAt: now, UpdatedAt: now}
			if err := ws.CreateWebhook(ctx, wh); err != nil {
				return fmt.Errorf("webhook %s: %w", hook, err)
			}
			s.record(ctx, store.AuditEvent{Action: "workflow.webhook_imported", OrgID: t.OrgID, Target: wh.ID,
				Details: map[string]string{"tenant": t.ID, "webhook": hook, "rules": string(raw)}})
		case err != nil:
			return err
		default:
			if len(rules[hook]) == 0 {
				continue
			}
			if _, err := ws.UpdateWebhook(ctx, cur.ID, func(w *store.Webhook) error {
				var old []webhookRule
				_ = json.Unmarshal(w.Rules, &old)
				w.Rules, _ = json.Marshal(mergeRules(old, rules[hook]))
				w.UpdatedAt = now
				return nil
			}); err != nil {
				return fmt.Errorf("webhook %s: %w", hook, err)
			}
		}
	}
	return nil
}

// mergeRules adds rules to old; a rule already there (by id) is kept
// as it is.
func mergeRules(old, add []webhookRule) []webhookRule {
	out := append([]webhookRule{}, old...)
	for _, r := range add {
		found := false
		for _, o := range old {
			found = found || o.ID == r.ID
		}
		if !found {
			out = append(out, r)
		}
	}
	return out
}
