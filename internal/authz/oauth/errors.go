// Package oauth holds the protocol values the authorization server shares
// with its grant types: OAuth error values and their JSON writer (RFC 6749
// §5.2, RFC 7009 §2.2.1, RFC 7662 §2.3), token and code makers with their
// hashes (RFC 6749 §10.10), and the PKCE check (RFC 7636 §4.1, §4.6).
//
// It is a package of its own only so that package authz and package
// authz/grants can both use it without an import cycle.
package oauth

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// Error is an OAuth 2.0 error response (RFC 6749 §4.1.2.1, §5.2): the code
// and description sent to the client and the HTTP status of a JSON answer.
// Handlers wrap it with %w to add details for the log; only Code and
// Description reach the client.
type Error struct {
	Code        string
	Description string
	Status      int
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// Is makes errors.Is match any Error with the same code, so callers can test
// errors.Is(err, oauth.ErrInvalidRequest) whatever the description.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// The descriptions of invalid_scope, invalid_client and invalid_grant are
// the ones Meraki's service sends (RFC 6749's own wording).
var (
	ErrInvalidRequest = &Error{"invalid_request", "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.", http.StatusBadRequest}
	ErrInvalidClient  = &Error{"invalid_client", "Client authentication failed due to an unknown client, no client authentication included, or unsupported authentication method", http.StatusUnauthorized}
	ErrInvalidGrant   = &Error{"invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.", http.StatusBadRequest}
	ErrInvalidScope   = &Error{"invalid_scope", "The requested scope is invalid, unknown, or malformed.", http.StatusBadRequest}
	// ErrUnauthorizedClient is also what /oauth/revoke answers for a token
	// issued to another client (RFC 7009 §2.1 leaves the code open).
	ErrUnauthorizedClient   = &Error{"unauthorized_client", "The client is not authorized to perform this request.", http.StatusBadRequest}
	ErrUnsupportedGrantType = &Error{"unsupported_grant_type", "The authorization grant type is not supported by the authorization server.", http.StatusBadRequest}
	ErrUnsupportedResponse  = &Error{"unsupported_response_type", "The authorization server does not support obtaining an authorization code using this method.", http.StatusBadRequest}
	ErrAccessDenied         = &Error{"access_denied", "The resource owner or authorization server denied the request.", http.StatusForbidden}
	ErrServerError          = &Error{"server_error", "The authorization server encountered an unexpected condition that prevented it from fulfilling the request.", http.StatusInternalServerError}
)

// InvalidRequest returns an invalid_request error with a specific
// description, for mistakes a client developer must be able to fix.
func InvalidRequest(description string) *Error {
	return &Error{ErrInvalidRequest.Code, description, http.StatusBadRequest}
}

// InvalidScope returns an invalid_scope error whose description adds which
// scopes were wrong to Meraki's wording, e.g. InvalidScope("Unknown", list).
// Scope names are safe in error_description (RFC 6749 §3.3 and §5.2 allow
// the same characters); a malformed scope is never echoed.
func InvalidScope(what string, scopes []string) *Error {
	d := ErrInvalidScope.Description
	if len(scopes) > 0 {
		d += " " + what + ": " + strings.Join(scopes, " ") + "."
	} else if what != "" {
		d += " " + what + "."
	}
	return &Error{ErrInvalidScope.Code, d, http.StatusBadRequest}
}

// As returns the Error in err's chain, or server_error when there is none.
// ok is false in the second case: err is an unexpected failure.
func As(err error) (e *Error, ok bool) {
	if errors.As(err, &e) {
		return e, true
	}
	return ErrServerError, false
}

// NoStore sets the headers every token-bearing answer carries (RFC 6749
// §5.1): responses must never be cached.
func NoStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// WriteJSON writes v as a JSON answer that must not be cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	NoStore(w)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers err as RFC 6749 §5.2 JSON. An OAuth error is logged at
// info level with its wrapped details (a client mistake, not ours); anything
// else is logged as an error and answered server_error, so no internal
// detail reaches the client. invalid_client carries the WWW-Authenticate
// challenge of RFC 6749 §5.2.
func WriteError(w http.ResponseWriter, r *http.Request, lg *slog.Logger, err error) {
	e, ok := As(err)
	if ok {
		lg.InfoContext(r.Context(), "oauth error", "path", r.URL.Path, "error", e.Code, "detail", err.Error())
	} else {
		lg.ErrorContext(r.Context(), "oauth request failed", "path", r.URL.Path, "err", err)
	}
	if e.Code == ErrInvalidClient.Code {
		w.Header().Set("WWW-Authenticate", `Basic realm="grantflow"`)
	}
	WriteJSON(w, e.Status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.Code, e.Description})
}
