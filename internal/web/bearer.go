package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// RequireBearer lets through only requests with "Authorization: Bearer
// secret" (RFC 6750 §2.1), for operator endpoints such as /metrics. An
// empty secret lets everything through. The comparison is of SHA-256
// digests in constant time, so neither the secret's bytes nor its length
// show in the timing.
func RequireBearer(secret string, next http.Handler) http.Handler {
	if secret == "" {
		return next
	}
	want := sha256.Sum256([]byte(secret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="grantflow"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
