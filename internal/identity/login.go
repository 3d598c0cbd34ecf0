package identity

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// statusClientClosed is the status logged for a request its client gave up
// on (nginx's 499).
const statusClientClosed = 499

type loginPage struct {
	web.Chrome
	Email    string
	ReturnTo string
	Error    string
}

type messagePage struct {
	web.Chrome
	Message string
}

type orgsPage struct {
	web.Chrome
	Memberships []store.OrgMembership
}

func (h *Handler) getLogin(w http.ResponseWriter, r *http.Request) {
	returnTo := SafeReturnTo(r.URL.Query().Get("return_to"))
	if _, ok := h.sessions.Current(r); ok {
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, "", returnTo, "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, email, returnTo, msg string) {
	h.render.Render(w, r, status, "login.html", loginPage{
		Chrome:   web.Chrome{Title: "Log in", CSRF: h.sessions.CSRFToken(w, r)},
		Email:    email,
		ReturnTo: returnTo,
		Error:    msg,
	})
}

func (h *Handler) postLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.message(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	if !h.sessions.VerifyCSRF(r) {
		h.csrfFailed(w, r)
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	returnTo := SafeReturnTo(r.PostFormValue("return_to"))
	if email == "" || password == "" {
		h.renderLogin(w, r, http.StatusOK, email, returnTo, "Enter your email and password.")
		return
	}

	ip := clientIP(r)
	try, wait, ok := h.throttle.reserve(strings.ToLower(email), ip)
	if !ok {
		h.tooManyAttempts(w, r, wait)
		return
	}
	acct, err := h.svc.authenticate(r.Context(), email, password, source{IP: ip, UserAgent: userAgent(r)})
	if errors.Is(err, ErrInvalidCredentials) {
		h.renderLogin(w, r, http.StatusOK, email, returnTo, "Wrong email or password.")
		return
	}
	if err != nil {
		h.throttle.abandoned(try)
		if r.Context().Err() != nil {
			// The browser went away; nobody reads the answer, and the
			// status (nginx's "client closed request") keeps it out of
			// the server errors.
			h.lg.InfoContext(r.Context(), "login cancelled by the client", "err", err)
			w.WriteHeader(statusClientClosed)
			return
		}
		h.lg.ErrorContext(r.Context(), "login failed", "err", err)
		h.message(w, r, http.StatusInternalServerError, "Something went wrong", "Logging in failed. Try again in a moment.")
		return
	}
	h.throttle.succeeded(try)
	if err := h.sessions.Login(w, r, acct); err != nil {
		h.lg.ErrorContext(r.Context(), "session create failed", "err", err)
		h.message(w, r, http.StatusInternalServerError, "Something went wrong", "Logging in failed. Try again in a moment.")
		return
	}
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// tooManyAttempts answers a throttled login with 429, Retry-After (RFC 6585
// §4) and a page that says when to try again.
func (h *Handler) tooManyAttempts(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.Header().Set("Cache-Control", "no-store")
	when := fmt.Sprintf("%d second%s", secs, plural(secs))
	if secs >= 60 {
		mins := (secs + 59) / 60
		when = fmt.Sprintf("%d minute%s", mins, plural(mins))
	}
	h.message(w, r, http.StatusTooManyRequests, "Too many attempts",
		"Too many failed login attempts. Try again in "+when+".")
}

func (h *Handler) postLogout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !h.sessions.VerifyCSRF(r) {
		h.csrfFailed(w, r)
		return
	}
	if err := h.sessions.Logout(w, r); err != nil {
		h.lg.ErrorContext(r.Context(), "logout failed", "err", err)
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.sessions.Current(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	h.renderOrgs(w, r, acct)
}

func (h *Handler) organizations(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.sessions.Current(r)
	if !ok {
		http.Redirect(w, r, web.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	h.renderOrgs(w, r, acct)
}

func (h *Handler) renderOrgs(w http.ResponseWriter, r *http.Request, acct store.Account) {
	ms, err := h.svc.accounts.ListAccountMemberships(r.Context(), acct.ID)
	if err != nil {
		h.lg.ErrorContext(r.Context(), "list memberships failed", "err", err)
		h.messageFor(w, r, acct, http.StatusInternalServerError, "Something went wrong", "Your organizations could not be loaded.")
		return
	}
	h.render.Render(w, r, http.StatusOK, "organizations.html", orgsPage{
		Chrome:      h.chrome(w, r, acct, "Organizations"),
		Memberships: ms,
	})
}

func (h *Handler) chrome(w http.ResponseWriter, r *http.Request, acct store.Account, title string) web.Chrome {
	return web.Chrome{Title: title, User: acct.Email, CSRF: h.sessions.CSRFToken(w, r)}
}

// csrfFailed answers a form post whose csrf_token is missing or wrong.
func (h *Handler) csrfFailed(w http.ResponseWriter, r *http.Request) {
	h.message(w, r, http.StatusForbidden, "Form expired",
		"This form has expired or was sent from another site. Go back, reload the page and try again. (Cookies must be enabled.)")
}

// message answers with a one-line message page for whoever is logged in.
// Handlers that already hold the account use [Handler.messageFor], so the
// session is not read from the store a second time.
func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	acct, _ := h.sessions.Current(r)
	h.messageFor(w, r, acct, status, title, msg)
}

// messageFor is message for a known account (the zero Account for nobody).
func (h *Handler) messageFor(w http.ResponseWriter, r *http.Request, acct store.Account, status int, title, msg string) {
	h.render.Render(w, r, status, "message.html", messagePage{Chrome: h.chrome(w, r, acct, title), Message: msg})
}

// SafeReturnTo returns s if it is a local path to send a visitor back to
// after login, and "/" otherwise. It refuses anything a browser could read
// as another origin: "//host" and "/\host" (browsers treat "\" as "/"),
// absolute URLs and schemes like "javascript:", and control characters
// (browsers strip tabs and newlines, turning "/\t/host" into "//host").
func SafeReturnTo(s string) string {
	if s == "" || len(s) > 2048 || s[0] != '/' {
		return "/"
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return "/"
	}
	if strings.ContainsRune(s, '\\') || strings.ContainsFunc(s, unicode.IsControl) {
		return "/"
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return s
}

// clientIP is the address the request came from, without the port. It
// does not trust X-Forwarded-For: behind a reverse proxy every client
// shares the proxy's address unless the server rewrites RemoteAddr for a
// trusted proxy.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
