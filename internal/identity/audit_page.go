package identity

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

const (
	// auditPageSize is how many events one audit page shows.
	auditPageSize = 100
	// auditExportBatch is how many events an export reads per query.
	auditExportBatch = 1000
	// auditShortID is how long an opaque id (grant ids, client ids) is on
	// the page; the export and the cell's tooltip keep it whole.
	auditShortID = 12
	dateLayout   = "2006-01-02"
)

type auditRow struct {
	ID          int64
	Time        string
	Action      string // in plain words
	ActionCode  string // e.g. "token.issued", as a tooltip and in exports
	Actor       string // the person's email, "" when no person acted
	Integration string // the acting integration's name, "" when none
	Target      string
	TargetFull  string
	Details     []detail
}

type detail struct{ Key, Value, Full string }

type actionOption struct {
	Code, Label string
	Selected    bool
}

type auditPage struct {
	web.Chrome
	Org     store.Organization
	Rows    []auditRow
	Filter  auditQuery
	Actions []actionOption
	// Older and Newer are the links to the next pages, "" when there is none.
	Older, Newer, Newest string
	ExportCSV            string
	ExportJSON           string
	Filtered             bool
}

// auditQuery is the audit page's filter as the person typed it.
type auditQuery struct {
	Action, Actor, Integration, From, To string
}

// values is q as query parameters, for links that keep the filter.
func (q auditQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"action": q.Action, "actor": q.Actor, "integration": q.Integration, "from": q.From, "to": q.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// auditActions names the audit actions in plain words. An action that is
// not listed is shown by its code with the punctuation turned into spaces.
var auditActions = map[string]string{
	"admin.access_changed":              "Administrator access changed",
	"admin.created":                     "Administrator added",
	"admin.removed":                     "Administrator removed",
	"apikey.created":                    "API key created",
	"apikey.revoked":                    "API key revoked",
	"authorization.denied":              "Authorization denied",
	"authorization.granted":             "Authorization granted",
	"automation.client_registered":      "Automation integration registered",
	"automation.keys_rotated":           "Automation keys rotated",
	"automation.role_changed":           "Automation role changed",
	"automation.target_created":         "Automation target created",
	"automation.target_updated":         "Automation target updated",
	"automation.tenant_created":         "Automation tenant created",
	"automation.tenant_updated":         "Automation tenant updated",
	"automation.token_deleted":          "Automation token deleted",
	"automation.token_issued":           "Automation token issued",
	"automation.token_reconnect_needed": "Automation token needs reconnecting",
	"automation.token_refreshed":        "Automation token refreshed",
	"automation.token_used":             "Automation token used",
	"client.created":                    "Integration registered",
	"client.deleted":                    "Integration deleted",
	"client.secret_rotated":             "Integration secret rotated",
	"client.updated":                    "Integration updated",
	"client.webhook_removed":            "Integration webhook removed",
	"client.webhook_secret_rotated":     "Integration webhook secret rotated",
	"client.webhook_set":                "Integration webhook set",
	"grant.removed":                     "Access removed",
	"grant.revoked":                     "Access revoked",
	"integration.removed":               "Integration removed from the organization",
	"login.failed":                      "Login failed",
	"login.succeeded":                   "Logged in",
	"org.created":                       "Organization created",
	"org.deleted":                       "Organization deleted",
	"org.updated":                       "Organization updated",
	"password.changed":                  "Password changed",
	"token.code_replayed":               "Authorization code replayed",
	"token.issued":                      "Token issued",
	"token.refreshed":                   "Token refreshed",
	"token.reuse_detected":              "Refresh token reuse detected",
	"token.revoked":                     "Token revoked",
	"webhook.disabled":                  "Webhook disabled",
	"workflow.denied":                   "Workflow action denied",
	"workflow.imported":                 "Workflow imported",
	"workflow.prompt_answered":          "Workflow prompt answered",
	"workflow.run_cancelled":            "Workflow run cancelled",
	"workflow.run_started":              "Workflow run started",
	"workflow.schedule_created":         "Schedule created",
	"workflow.schedule_deleted":         "Schedule deleted",
	"workflow.schedule_disabled":        "Schedule disabled",
	"workflow.schedule_enabled":         "Schedule enabled",
	"workflow.schedule_imported":        "Schedule imported",
	"workflow.schedule_paused":          "Schedule paused",
	"workflow.schedule_resumed":         "Schedule resumed",
	"workflow.schedule_updated":         "Schedule updated",
	"workflow.secret_set":               "Workflow secret set",
	"workflow.target_updated":           "Workflow target updated",
	"workflow.webhook_called":           "Workflow webhook called",
	"workflow.webhook_deleted":          "Workflow webhook deleted",
	"workflow.webhook_disabled":         "Workflow webhook disabled",
	"workflow.webhook_enabled":          "Workflow webhook enabled",
	"workflow.webhook_imported":         "Workflow webhook imported",
	"workflow.webhook_refused":          "Workflow webhook refused",
	"workflow.webhook_secret_rotated":   "Workflow webhook secret rotated",
}

// actionLabel is action in plain words.
func actionLabel(action string) string {
	if l, ok := auditActions[action]; ok {
		return l
	}
	l := strings.NewReplacer(".", " ", "_", " ").Replace(action)
	if l == "" {
		return l
	}
	return strings.ToUpper(l[:1]) + l[1:]
}

// SetClients lets the audit page show integrations by name; without it
// they are shown by client id.
func (h *Handler) SetClients(c store.Clients) { h.clients = c }

// auditPage shows an organization's audit log to its administrators, full
// or read-only, filtered and paged; with format=csv or format=json it
// downloads every event the filter selects. Everyone else gets 404, so the
// page does not confirm which organization ids exist.
func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.sessions.Current(r)
	if !ok {
		http.Redirect(w, r, web.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	orgID := r.PathValue("orgID")
	// Any membership, full or read-only, may read the log.
	_, err := h.svc.accounts.GetMembership(ctx, orgID, acct.ID)
	if errors.Is(err, store.ErrNotFound) {
		h.messageFor(w, r, acct, http.StatusNotFound, "Not found", "There is no such organization, or you are not one of its administrators.")
		return
	}
	if err != nil {
		h.serverError(w, r, acct, "membership lookup failed", err)
		return
	}
	org, err := h.svc.orgs.GetOrganization(ctx, orgID)
	if err != nil {
		h.serverError(w, r, acct, "organization lookup failed", err)
		return
	}

	qs := r.URL.Query()
	q := auditQuery{
		Action:      strings.TrimSpace(qs.Get("action")),
		Actor:       strings.TrimSpace(qs.Get("actor")),
		Integration: strings.TrimSpace(qs.Get("integration")),
		From:        strings.TrimSpace(qs.Get("from")),
		To:          strings.TrimSpace(qs.Get("to")),
	}
	f, bad, err := h.auditFilter(ctx, orgID, q)
	if err != nil {
		h.serverError(w, r, acct, "audit filter lookup failed", err)
		return
	}
	if bad != "" {
		h.messageFor(w, r, acct, http.StatusBadRequest, "Bad request", bad)
		return
	}
	names := newAuditNames(h, r)
	switch format := qs.Get("format"); format {
	case "":
	case "csv", "json":
		h.exportAudit(w, r, acct, org, f, names, format)
		return
	default:
		h.messageFor(w, r, acct, http.StatusBadRequest, "Bad request", "The export format must be csv or json.")
		return
	}

	var before, after int64
	for name, dst := range map[string]*int64{"before": &before, "after": &after} {
		if v := qs.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				h.messageFor(w, r, acct, http.StatusBadRequest, "Bad request", "The page link is not valid.")
				return
			}
			*dst = n
		}
	}
	if before != 0 && after != 0 {
		h.messageFor(w, r, acct, http.StatusBadRequest, "Bad request", "The page link is not valid.")
		return
	}
	// One extra event tells whether a further page exists in the direction
	// of travel; the other direction has one whenever we came from it.
	f.BeforeID, f.AfterID, f.Limit = before, after, auditPageSize+1
	events, err := h.auditLog.ListAudit(ctx, f)
	if err != nil {
		h.serverError(w, r, acct, "audit list failed", err)
		return
	}
	moreOlder, moreNewer := after != 0, before != 0
	if len(events) > auditPageSize {
		if after != 0 {
			events = events[1:]
			moreNewer = true
		} else {
			events = events[:auditPageSize]
			moreOlder = true
		}
	}

	base := "/organizations/" + url.PathEscape(org.ID) + "/audit"
	link := func(k string, v int64) string {
		vals := q.values()
		if k != "" {
			vals.Set(k, strconv.FormatInt(v, 10))
		}
		if len(vals) == 0 {
			return base
		}
		return base + "?" + vals.Encode()
	}
	export := func(format string) string {
		vals := q.values()
		vals.Set("format", format)
		return base + "?" + vals.Encode()
	}
	page := auditPage{
		Chrome: h.chrome(w, r, acct, "Audit log · "+org.Name), Org: org, Filter: q,
		ExportCSV: export("csv"), ExportJSON: export("json"),
		Filtered: len(q.values()) > 0,
	}
	for code, label := range auditActions {
		page.Actions = append(page.Actions, actionOption{Code: code, Label: label, Selected: code == q.Action})
	}
	if _, known := auditActions[q.Action]; q.Action != "" && !known {
		page.Actions = append(page.Actions, actionOption{Code: q.Action, Label: actionLabel(q.Action), Selected: true})
	}
	sort.Slice(page.Actions, func(i, j int) bool { return page.Actions[i].Label < page.Actions[j].Label })
	if len(events) > 0 {
		if moreOlder {
			page.Older = link("before", events[len(events)-1].ID)
		}
		if moreNewer {
			page.Newer = link("after", events[0].ID)
		}
	}
	if before != 0 || after != 0 {
		page.Newest = link("", 0)
	}
	for _, e := range events {
		page.Rows = append(page.Rows, names.row(e))
	}
	h.render.Render(w, r, http.StatusOK, "audit.html", page)
}

// auditFilter turns what the person typed into a store filter. bad is a
// message for the person when a value cannot be used. An actor or
// integration that does not exist selects nothing rather than everything.
func (h *Handler) auditFilter(ctx context.Context, orgID string, q auditQuery) (f store.AuditFilter, bad string, err error) {
	f = store.AuditFilter{OrgID: orgID, Action: q.Action}
	const none = "\x00none"
	if q.Actor != "" {
		a, err := h.svc.accounts.GetAccountByEmail(ctx, strings.ToLower(q.Actor))
		switch {
		case errors.Is(err, store.ErrNotFound):
			f.ActorAccountID = none
		case err != nil:
			return f, "", err
		default:
			f.ActorAccountID = a.ID
		}
	}
	if q.Integration != "" {
		f.ClientID, err = h.integrationID(ctx, q.Integration)
		if err != nil {
			return f, "", err
		}
		if f.ClientID == "" {
			f.ClientID = none
		}
	}
	for _, d := range []struct {
		s   string
		dst *time.Time
		add time.Duration
	}{{q.From, &f.Since, 0}, {q.To, &f.Until, 24 * time.Hour}} {
		if d.s == "" {
			continue
		}
		t, ok := parseDay(d.s)
		if !ok {
			return f, "The date " + strconv.Quote(d.s) + " is not valid: use YYYY-MM-DD.", nil
		}
		// "to" includes the whole day.
		*d.dst = t.Add(d.add)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, "The time range ends before it starts.", nil
	}
	return f, "", nil
}

// parseDay reads a YYYY-MM-DD date as midnight UTC.
func parseDay(s string) (time.Time, bool) {
	t, err := time.Parse(dateLayout, s)
	return t, err == nil
}

// integrationID finds an integration by client id or by name (ignoring
// case); "" when there is none.
func (h *Handler) integrationID(ctx context.Context, s string) (string, error) {
	if h.clients == nil {
		return s, nil
	}
	if c, err := h.clients.GetClient(ctx, s); err == nil {
		return c.ID, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	all, err := h.clients.ListClients(ctx, "")
	if err != nil {
		return "", err
	}
	for _, c := range all {
		if strings.EqualFold(c.Name, s) {
			return c.ID, nil
		}
	}
	return "", nil
}

// auditNames resolves account and client ids to emails and names, once
// per request per id.
type auditNames struct {
	h       *Handler
	r       *http.Request
	emails  map[string]string
	clients map[string]string
}

func newAuditNames(h *Handler, r *http.Request) *auditNames {
	return &auditNames{h: h, r: r, emails: map[string]string{}, clients: map[string]string{}}
}

func (n *auditNames) email(id string) string { return n.h.actorEmail(n.r, n.emails, id) }

// client is the name of integration id, or id when it has none (deleted).
func (n *auditNames) client(id string) string {
	if id == "" {
		return ""
	}
	if name, ok := n.clients[id]; ok {
		return name
	}
	name := id
	if n.h.clients != nil {
		c, err := n.h.clients.GetClient(n.r.Context(), id)
		switch {
		case err == nil && c.Name != "":
			name = c.Name
		case err != nil && !errors.Is(err, store.ErrNotFound):
			n.h.lg.WarnContext(n.r.Context(), "audit client lookup failed", "client", id, "err", err)
		}
	}
	n.clients[id] = name
	return name
}

// targetsClient reports whether action's target is an integration's
// client id, which the page then shows by name.
func targetsClient(action string) bool {
	return strings.HasPrefix(action, "client.") || strings.HasPrefix(action, "authorization.") ||
		action == "integration.removed" || action == "automation.client_registered"
}

func (n *auditNames) target(e store.AuditEvent) string {
	if targetsClient(e.Action) {
		return n.client(e.Target)
	}
	return e.Target
}

func (n *auditNames) row(e store.AuditEvent) auditRow {
	target := n.target(e)
	row := auditRow{
		ID: e.ID, Time: web.FormatTime(e.At), Action: actionLabel(e.Action), ActionCode: e.Action,
		Actor: n.email(e.ActorAccountID), Integration: n.client(e.ActorClientID),
		Target: shortID(target), TargetFull: target,
	}
	for _, k := range sortedKeys(e.Details) {
		v := e.Details[k]
		// Token events repeat their grant id as a detail; once is enough.
		if v == e.Target {
			continue
		}
		row.Details = append(row.Details, detail{Key: strings.ReplaceAll(k, "_", " "), Value: shortID(v), Full: v})
	}
	return row
}

// shortID shortens a long opaque id (no spaces, longer than a few words)
// to its start, so a row stays one line high.
func shortID(s string) string {
	if len(s) <= auditShortID+8 || strings.ContainsAny(s, " ,:@") {
		return s
	}
	return s[:auditShortID] + "…"
}

func sortedKeys(d map[string]string) []string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// auditJSON is one exported event.
type auditJSON struct {
	ID             int64             `json:"id"`
	Time           time.Time         `json:"time"`
	Action         string            `json:"action"`
	Description    string            `json:"description"`
	ActorEmail     string            `json:"actor_email,omitempty"`
	ActorAccountID string            `json:"actor_account_id,omitempty"`
	Integration    string            `json:"integration,omitempty"`
	IntegrationID  string            `json:"integration_client_id,omitempty"`
	Target         string            `json:"target,omitempty"`
	TargetName     string            `json:"target_name,omitempty"`
	Details        map[string]string `json:"details,omitempty"`
}

// exportAudit writes every event f selects, newest first, as an attachment.
func (h *Handler) exportAudit(w http.ResponseWriter, r *http.Request, acct store.Account, org store.Organization, f store.AuditFilter, names *auditNames, format string) {
	ctx := r.Context()
	var events []store.AuditEvent
	f.Limit = auditExportBatch
	for {
		batch, err := h.auditLog.ListAudit(ctx, f)
		if err != nil {
			h.serverError(w, r, acct, "audit export failed", err)
			return
		}
		events = append(events, batch...)
		if len(batch) < auditExportBatch {
			break
		}
		f.BeforeID = batch[len(batch)-1].ID
	}
	out := make([]auditJSON, 0, len(events))
	for _, e := range events {
		j := auditJSON{
			ID: e.ID, Time: e.At.UTC(), Action: e.Action, Description: actionLabel(e.Action),
			ActorEmail: names.email(e.ActorAccountID), ActorAccountID: e.ActorAccountID,
			Integration: names.client(e.ActorClientID), IntegrationID: e.ActorClientID,
			Target: e.Target, Details: e.Details,
		}
		if t := names.target(e); t != e.Target {
			j.TargetName = t
		}
		out = append(out, j)
	}
	w.Header().Set("Content-Disposition", `attachment; filename="audit-`+org.ID+`.`+format+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if format == "json" {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			h.lg.WarnContext(ctx, "audit export write failed", "err", err)
		}
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "time", "action", "description", "actor_email", "integration", "integration_client_id", "target", "target_name", "details"})
	for _, j := range out {
		_ = cw.Write([]string{strconv.FormatInt(j.ID, 10), j.Time.Format(time.RFC3339), j.Action, j.Description,
			j.ActorEmail, j.Integration, j.IntegrationID, j.Target, j.TargetName, formatDetails(j.Details)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		h.lg.WarnContext(ctx, "audit export write failed", "err", err)
	}
}

// actorEmail resolves an account id to its email, once per page per id.
func (h *Handler) actorEmail(r *http.Request, seen map[string]string, id string) string {
	if id == "" {
		return ""
	}
	if e, ok := seen[id]; ok {
		return e
	}
	e := id
	if a, err := h.svc.accounts.GetAccount(r.Context(), id); err == nil {
		e = a.Email
	} else if !errors.Is(err, store.ErrNotFound) {
		h.lg.WarnContext(r.Context(), "audit actor lookup failed", "account", id, "err", err)
	}
	seen[id] = e
	return e
}

// formatDetails is d as "key: value; key: value", keys sorted.
func formatDetails(d map[string]string) string {
	var b strings.Builder
	for i, k := range sortedKeys(d) {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(d[k])
	}
	return b.String()
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, acct store.Account, what string, err error) {
	h.lg.ErrorContext(r.Context(), what, "err", err)
	h.messageFor(w, r, acct, http.StatusInternalServerError, "Something went wrong", "The page could not be loaded. Try again in a moment.")
}
