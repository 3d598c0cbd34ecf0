package web

import (
	"net/http"
	"net/url"

	"github.com/grantflow/grantflow/internal/store"
)

// Sessions is what pages need from the dashboard login (package identity
// implements it). Packages that serve pages take it as a dependency.
type Sessions interface {
	// Current returns the logged-in account of the request.
	Current(r *http.Request) (store.Account, bool)
	// CSRFToken returns the token forms on this response must carry in the
	// hidden "csrf_token" field. It may set a cookie on w for anonymous visitors.
	CSRFToken(w http.ResponseWriter, r *http.Request) string
	// VerifyCSRF checks, in constant time, the request's "csrf_token" form
	// field or, when that is empty, its "X-CSRF-Token" header (for JSON APIs
	// called from the dashboard's pages).
	VerifyCSRF(r *http.Request) bool
}

// LoginURL is where a page sends a visitor who must log in first; after
// login they come back to returnTo (a local path).
func LoginURL(returnTo string) string {
	return "/login?return_to=" + url.QueryEscape(returnTo)
}
