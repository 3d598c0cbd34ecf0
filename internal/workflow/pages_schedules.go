package workflow

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// The schedules page (/automation/schedules): a tenant's schedules with
// their next due times, state, reason and creator, one schedule's history
// of runs and skipped due times, the tenant's webhooks, and for
// tenant_admins the controls. Every workflow page also shows a banner to a
// tenant_admin whose tenant has a schedule paused on the Org-scoped token.

func (h *Handler) schedulePageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /automation/schedules", h.pageSchedules)
	mux.HandleFunc("GET /automation/schedules/{id}", h.pageSchedule)
	mux.HandleFunc("POST /automation/schedules/{id}/enable", h.pageScheduleAction("enable"))
	mux.HandleFunc("POST /automation/schedules/{id}/disable", h.pageScheduleAction("disable"))
	mux.HandleFunc("POST /automation/schedules/{id}/delete", h.pageScheduleAction("delete"))
	mux.HandleFunc("POST /automation/webhooks/{id}/enable", h.pageWebhookAction("enable"))
	mux.HandleFunc("POST /automation/webhooks/{id}/disable", h.pageWebhookAction("disable"))
	mux.HandleFunc("POST /automation/webhooks/{id}/rotate", h.pageWebhookAction("rotate"))
	mux.HandleFunc("POST /automation/webhooks/{id}/delete", h.pageWebhookAction("delete"))
}

func init() {
	for k, v := range map[string]string{
		"schedule_enable": "Schedule enabled.", "schedule_disable": "Schedule disabled.", "schedule_delete": "Schedule deleted.",
		"webhook_enable": "Webhook enabled.", "webhook_disable": "Webhook disabled.", "webhook_delete": "Webhook deleted.",
	} {
		pageFlashes[k] = v
	}
}

type schedulesPage struct {
	web.Chrome
	Orgs      []store.OrgMembership
	Org       store.OrgMembership
	Role      store.Role
	CanAdmin  bool
	Workflow  string // the unique_name the list is narrowed to, or ""
	Paused    []ScheduleView
	Schedules []ScheduleView
	Webhooks  []WebhookView
}

// pageSchedules is GET /automation/schedules?org=…[&workflow=UNIQUE_NAME].
func (h *Handler) pageSchedules(w http.ResponseWriter, r *http.Request) {
	q, ok := h.pageTenant(w, r, maxFormBody)
	if !ok {
		return
	}
	ctx := r.Context()
	a := Actor{Account: q.acct}
	list, err := h.svc.Schedules(ctx, q.t.ID, a)
	if err != nil {
		h.pageFail(w, r, q.acct, err, "/automation")
		return
	}
	p := schedulesPage{Chrome: h.chrome(w, r, q.acct, "Schedules"), Orgs: q.ms, Org: q.m, Role: q.role,
		CanAdmin: allows(q.role, permAdmin), Workflow: r.URL.Query().Get("workflow")}
	for _, v := range list {
		if p.Workflow != "" && v.WorkflowUniqueName != p.Workflow {
			continue
		}
		if v.Enabled && v.State == store.SchedulePaused {
			p.Paused = append(p.Paused, v)
		}
		p.Schedules = append(p.Schedules, v)
	}
	if p.Workflow == "" {
		if p.Webhooks, err = h.svc.Webhooks(ctx, q.t.ID, a); err != nil {
			h.pageFail(w, r, q.acct, err, "/automation")
			return
		}
	}
	h.pages.Render(w, r, http.StatusOK, "schedules.html", p)
}

type schedulePage struct {
	web.Chrome
	OrgID    string
	CanAdmin bool
	Schedule ScheduleView
}

// pageSchedule is GET /automation/schedules/{id}: one schedule and what
// happened at its due times.
func (h *Handler) pageSchedule(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.account(w, r, maxFormBody)
	if !ok {
		return
	}
	v, t, role, err := h.svc.scheduleAs(r.Context(), r.PathValue("id"), Actor{Account: acct})
	if err != nil {
		h.pageFail(w, r, acct, err, "/automation/schedules")
		return
	}
	h.pages.Render(w, r, http.StatusOK, "schedule.html", schedulePage{Chrome: h.chrome(w, r, acct, v.Name), OrgID: t.OrgID,
		CanAdmin: allows(role, permAdmin), Schedule: v})
}

func (h *Handler) pageScheduleAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		acct, ok := h.account(w, r, maxFormBody)
		if !ok {
			return
		}
		ctx, a, id := r.Context(), Actor{Account: acct}, r.PathValue("id")
		back := "/automation/schedules"
		v, err := h.svc.Schedule(ctx, id, a)
		if err == nil {
			t, terr := h.svc.tenant(ctx, v.TenantID)
			if terr == nil {
				back = orgLink("/automation/schedules", t.OrgID)
			}
			switch action {
			case "delete":
				err = h.svc.DeleteSchedule(ctx, id, a)
			default:
				_, err = h.svc.EnableSchedule(ctx, id, a, action == "enable")
			}
		}
		if err != nil {
			h.pageFail(w, r, acct, err, back)
			return
		}
		http.Redirect(w, r, back+"&done=schedule_"+action, http.StatusSeeOther)
	}
}

type secretPage struct {
	web.Chrome
	Webhook WebhookView
	Secret  string
	Back    string
	Header  string
}

func (h *Handler) pageWebhookAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		acct, ok := h.account(w, r, maxFormBody)
		if !ok {
			return
		}
		ctx, a, id := r.Context(), Actor{Account: acct}, r.PathValue("id")
		back := "/automation/schedules"
		v, err := h.svc.Webhook(ctx, id, a)
		if err == nil {
			if t, terr := h.svc.tenant(ctx, v.TenantID); terr == nil {
				back = orgLink("/automation/schedules", t.OrgID)
			}
			switch action {
			case "delete":
				err = h.svc.DeleteWebhook(ctx, id, a)
			case "rotate":
				var secret string
				if v, secret, err = h.svc.RotateWebhookSecret(ctx, id, a); err == nil {
					// Shown once, on this answer only (no-store, like every page).
					h.pages.Render(w, r, http.StatusOK, "secret.html", secretPage{Chrome: h.chrome(w, r, acct, "Webhook secret"),
						Webhook: v, Secret: secret, Back: back, Header: SignatureHeader})
					return
				}
			default:
				_, err = h.svc.EnableWebhook(ctx, id, a, action == "enable")
			}
		}
		if err != nil {
			h.pageFail(w, r, acct, err, back)
			return
		}
		http.Redirect(w, r, back+"&done=webhook_"+action, http.StatusSeeOther)
	}
}

// pausedBanner is the line a tenant_admin sees on every workflow page
// while a schedule of their tenants is paused because the Org-scoped token
// needs reconnecting ("" when none is).
func (h *Handler) pausedBanner(r *http.Request, acct store.Account) string {
	ss, err := h.svc.scheduleStore()
	if err != nil || acct.ID == "" {
		return ""
	}
	ctx := r.Context()
	on := true
	paused, err := ss.ListSchedules(ctx, store.ScheduleFilter{State: store.SchedulePaused, Enabled: &on})
	if err != nil || len(paused) == 0 {
		return ""
	}
	byTenant := map[string]int{}
	for _, sc := range paused {
		byTenant[sc.TenantID]++
	}
	var parts []string
	for tid, n := range byTenant {
		t, err := h.svc.tenant(ctx, tid)
		if err != nil {
			continue
		}
		if _, role, err := h.svc.auto.RoleOf(ctx, t, acct.ID); err != nil || role != store.RoleTenantAdmin {
			continue
		}
		parts = append(parts, fmt.Sprintf("%d schedule(s) of organization %s", n, t.OrgID))
	}
	if len(parts) == 0 {
		return ""
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ") + " are paused: the tenant's Org-scoped token needs reconnecting. Reconnect it under Automation (/automation); they resume by themselves, and the skipped due times are listed under Schedules."
}
