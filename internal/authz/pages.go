package authz

import (
	"embed"
	"net/http"
	"strings"

	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/web"
)

//go:embed templates/*.html
var templatesFS embed.FS

// errorData is the data of error.html: a plain message for a person; the
// details go to the log.
type errorData struct {
	web.Chrome
	Message string
}

// scopeLine is one scope as a person reads it.
type scopeLine struct{ Name, Words string }

func describeScopes(list []string) []scopeLine {
	out := make([]scopeLine, len(list))
	for i, s := range list {
		out[i] = scopeLine{Name: s, Words: scope.Describe(s)}
	}
	return out
}

// noFraming forbids other sites to frame the page (clickjacking a consent,
// RFC 6749 §10.13): CSP frame-ancestors for current browsers,
// X-Frame-Options for old ones. A policy set by the middleware is kept.
func noFraming(w http.ResponseWriter) {
	h := w.Header()
	const fa = "frame-ancestors 'none'"
	switch csp := h.Get("Content-Security-Policy"); {
	case csp == "":
		h.Set("Content-Security-Policy", fa)
	case !strings.Contains(csp, "frame-ancestors"):
		h.Set("Content-Security-Policy", csp+"; "+fa)
	}
	h.Set("X-Frame-Options", "DENY")
	// The page's URL carries state and PKCE values; keep them off other sites.
	h.Set("Referrer-Policy", "no-referrer")
}

// render sends one of this package's pages, always with noFraming, so
// that no page of the authorization server can be framed.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	noFraming(w)
	h.pages.Render(w, r, status, page, data)
}

// readPageForm reads the body of one of this package's forms (bounded to
// maxFormBytes), answering 400 with an error page when it cannot.
func (h *Handler) readPageForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	return true
}

// errorPage shows msg to the person with status. Used where RFC 6749
// §4.1.2.1 forbids a redirect (unknown client, bad redirect URI) and for
// mistakes in our own forms.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	d := errorData{Message: msg}
	d.Title = http.StatusText(status)
	if acct, ok := h.sessions.Current(r); ok {
		d.User = acct.Email
		d.CSRF = h.sessions.CSRFToken(w, r)
	}
	h.render(w, r, status, "error.html", d)
}
