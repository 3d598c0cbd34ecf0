package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an error the Dashboard API answers with Meraki's shape:
// {"errors": ["message", ...]} and a real status code.
type apiError struct {
	status     int
	msgs       []string
	retryAfter int // seconds, for 429
}

func (e *apiError) Error() string { return fmt.Sprintf("%d: %v", e.status, e.msgs) }

func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, msgs: []string{fmt.Sprintf(format, args...)}}
}

func errList(status int, msgs []string) error { return &apiError{status: status, msgs: msgs} }

var errNotFound = &apiError{status: http.StatusNotFound, msgs: []string{"Not found"}}

// rawJSON is a response body already encoded.
type rawJSON []byte

// writeJSON writes v with status; nil v writes no body (204).
func writeJSON(w http.ResponseWriter, status int, v any) {
	if v == nil || status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	b, ok := v.(rawJSON)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			status, b = http.StatusInternalServerError, []byte(`{"errors":["Internal server error"]}`)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	b = append(b, '\n')
	_, _ = w.Write(b)
}

// writeError writes err; errors that are not *apiError are internal and
// their details must already have been logged.
func writeError(w http.ResponseWriter, err error) int {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, msgs: []string{"Internal server error"}}
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	writeJSON(w, ae.status, map[string][]string{"errors": ae.msgs})
	return ae.status
}
