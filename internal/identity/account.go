package identity

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// The account page: a person's own password, sessions and security log.

const (
	securityPageSize = 20
	// sessionRefLen is how many hex digits of a session's id hash name it
	// in the page's forms: enough to tell an account's sessions apart,
	// without printing the whole key into URLs and access logs.
	sessionRefLen = 16
)

type accountPage struct {
	web.Chrome
	Error    string
	Sessions []sessionRow
	Events   []securityRow
	Paged    bool  // showing an older page of the security log
	Older    int64 // before= for the next older page, 0 if none
}

type sessionRow struct {
	Ref               string
	Created, LastSeen time.Time
	IP, UserAgent     string
	Current           bool
}

type securityRow struct {
	At        time.Time
	Event     string
	Result    string
	Failed    bool
	IP        string
	UserAgent string
	Detail    string
}

// accountFlash is what a redirect back to /account says, by its done= value.
var accountFlash = map[string]string{
	"password":       "Your password was changed. Your other sessions were ended.",
	"session":        "The session was ended.",
	"other-sessions": "All your other sessions were ended.",
}

func (h *Handler) accountGet(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.sessions.Current(r)
	if !ok {
		http.Redirect(w, r, web.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	h.renderAccount(w, r, acct, http.StatusOK, "")
}

func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, acct store.Account, status int, errMsg string) {
	ctx := r.Context()
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	sessions, err := h.accountSessions(r, acct.ID)
	if err != nil {
		h.lg.ErrorContext(ctx, "list sessions failed", "err", err)
		h.messageFor(w, r, acct, http.StatusInternalServerError, "Something went wrong", "Your account could not be loaded.")
		return
	}
	evs, older, err := h.svc.securityEvents(ctx, acct.ID, max(before, 0), securityPageSize)
	if err != nil {
		h.lg.ErrorContext(ctx, "list security events failed", "err", err)
		h.messageFor(w, r, acct, http.StatusInternalServerError, "Something went wrong", "Your account could not be loaded.")
		return
	}
	page := accountPage{
		Chrome:   h.chrome(w, r, acct, "Account"),
		Error:    errMsg,
		Sessions: sessions,
		Paged:    before > 0,
		Older:    older,
	}
	if errMsg == "" {
		page.Flash = accountFlash[r.URL.Query().Get("done")]
	}
	for _, e := range evs {
		page.Events = append(page.Events, securityRowOf(e))
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render.Render(w, r, status, "account.html", page)
}

func securityRowOf(e store.SecurityEvent) securityRow {
	row := securityRow{At: e.At, Event: e.Action, Result: "succeeded", IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail}
	switch e.Action {
	case ActionLoginSucceeded:
		row.Event = "Login"
	case ActionLoginFailed:
		row.Event, row.Result, row.Failed = "Login", "failed", true
	case ActionPasswordChanged:
		row.Event = "Password change"
	case ActionPasswordChangeFailed:
		row.Event, row.Result, row.Failed = "Password change", "failed", true
	case ActionSessionsEnded:
		row.Event = "Sessions ended"
	}
	return row
}

// accountSessions lists the account's live sessions, this browser's first.
func (h *Handler) accountSessions(r *http.Request, accountID string) ([]sessionRow, error) {
	all, err := h.sessions.store.ListAccountSessions(r.Context(), accountID)
	if err != nil {
		return nil, err
	}
	mine, _ := h.sessions.currentIDHash(r)
	now := h.sessions.now()
	var out []sessionRow
	for _, s := range all {
		if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= h.sessions.idle {
			continue // expired; Cleanup removes it
		}
		row := sessionRow{Ref: s.IDHash[:min(sessionRefLen, len(s.IDHash))], Created: s.CreatedAt, LastSeen: s.LastSeenAt,
			IP: s.IP, UserAgent: s.UserAgent, Current: s.IDHash == mine}
		if row.Current {
			out = append([]sessionRow{row}, out...)
		} else {
			out = append(out, row)
		}
	}
	return out, nil
}

// accountForm reads a logged-in person's form post: the account, or false
// once it has answered (not logged in, unreadable form, bad CSRF token).
func (h *Handler) accountForm(w http.ResponseWriter, r *http.Request) (store.Account, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	acct, ok := h.sessions.Current(r)
	if !ok {
		http.Redirect(w, r, web.LoginURL("/account"), http.StatusSeeOther)
		return store.Account{}, false
	}
	if err := r.ParseForm(); err != nil {
		h.messageFor(w, r, acct, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return store.Account{}, false
	}
	if !h.sessions.VerifyCSRF(r) {
		h.csrfFailed(w, r)
		return store.Account{}, false
	}
	return acct, true
}

func (h *Handler) accountPassword(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.accountForm(w, r)
	if !ok {
		return
	}
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	switch {
	case current == "" || next == "":
		h.renderAccount(w, r, acct, http.StatusOK, "Enter your current password and a new one.")
		return
	case next != r.PostFormValue("confirm_password"):
		h.renderAccount(w, r, acct, http.StatusOK, "The new password and its confirmation differ.")
		return
	}
	if err := CheckPasswordPolicy(next); err != nil {
		h.renderAccount(w, r, acct, http.StatusOK, "New password: "+err.Error()+".")
		return
	}
	// The current password is a guess like a login's: the same throttle
	// counts it, so a left-open browser cannot be used to try passwords.
	ip := clientIP(r)
	try, wait, ok := h.throttle.reserve(strings.ToLower(acct.Email), ip)
	if !ok {
		h.tooManyAttempts(w, r, wait)
		return
	}
	keep, _ := h.sessions.currentIDHash(r)
	err := h.svc.changePassword(r.Context(), acct.ID, current, next, keep, source{IP: ip, UserAgent: userAgent(r)})
	if errors.Is(err, ErrInvalidCredentials) {
		h.renderAccount(w, r, acct, http.StatusOK, "Your current password is wrong.")
		return
	}
	if err != nil {
		h.throttle.abandoned(try)
		h.lg.ErrorContext(r.Context(), "password change failed", "err", err)
		h.messageFor(w, r, acct, http.StatusInternalServerError, "Something went wrong", "Your password was not changed. Try again in a moment.")
		return
	}
	h.throttle.succeeded(try)
	http.Redirect(w, r, "/account?done=password", http.StatusSeeOther)
}

// accountEndSession ends one of the person's sessions; ending this
// browser's own is logging out.
func (h *Handler) accountEndSession(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.accountForm(w, r)
	if !ok {
		return
	}
	ref := r.PathValue("ref")
	all, err := h.sessions.store.ListAccountSessions(r.Context(), acct.ID)
	if err != nil {
		h.lg.ErrorContext(r.Context(), "list sessions failed", "err", err)
		h.messageFor(w, r, acct, http.StatusInternalServerError, "Something went wrong", "The session was not ended. Try again in a moment.")
		return
	}
	var target string
	for _, s := range all {
		if len(ref) == sessionRefLen && strings.HasPrefix(s.IDHash, ref) {
			target = s.IDHash
		}
	}
	if target == "" {
		// Already ended, or not this account's: both look the same.
		http.Redirect(w, r, "/account?done=session", http.StatusSeeOther)
		return
	}
	mine, _ := h.sessions.currentIDHash(r)
	src := source{IP: clientIP(r), UserAgent: userAgent(r)}
	if target == mine {
		if err := h.sessions.Logout(w, r); err != nil {
			h.lg.ErrorContext(r.Context(), "logout failed", "err", err)
		}
		h.svc.recordSecurity(r.Context(), acct.ID, ActionSessionsEnded, src, "this browser logged out")
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if err := h.sessions.store.DeleteSession(r.Context(), target); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.lg.ErrorContext(r.Context(), "end session failed", "err", err)
		h.messageFor(w, r, acct, http.StatusInternalServerError, "Something went wrong", "The session was not ended. Try again in a moment.")
		return
	}
	h.svc.recordSecurity(r.Context(), acct.ID, ActionSessionsEnded, src, "1 session ended")
	http.Redirect(w, r, "/account?done=session", http.StatusSeeOther)
}

func (h *Handler) accountEndOtherSessions(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.accountForm(w, r)
	if !ok {
		return
	}
	mine, _ := h.sessions.currentIDHash(r)
	n, err := h.sessions.store.DeleteOtherSessions(r.Context(), acct.ID, mine)
	if err != nil {
		h.lg.ErrorContext(r.Context(), "end sessions failed", "err", err)
		h.messageFor(w, r, acct, http.StatusInternalServerError, "Something went wrong", "Your sessions were not ended. Try again in a moment.")
		return
	}
	h.svc.recordSecurity(r.Context(), acct.ID, ActionSessionsEnded, source{IP: clientIP(r), UserAgent: userAgent(r)},
		strconv.FormatInt(n, 10)+" other session"+plural(int(n))+" ended")
	http.Redirect(w, r, "/account?done=other-sessions", http.StatusSeeOther)
}
