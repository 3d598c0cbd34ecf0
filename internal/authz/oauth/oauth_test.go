package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// FuzzPKCE: a verifier matches its own S256 challenge exactly when it is
// well formed (RFC 7636 §4.1), and never matches another's.
func FuzzPKCE(f *testing.F) {
	f.Add(strings.Repeat("a", 43), "other")
	f.Add(strings.Repeat("-._~", 32), "")
	f.Add("short", strings.Repeat("b", 43))
	f.Add(strings.Repeat("z", 129), "x")
	unreserved := regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)
	f.Fuzz(func(t *testing.T, verifier, other string) {
		if ValidPKCEValue(verifier) != unreserved.MatchString(verifier) {
			t.Fatalf("ValidPKCEValue(%q) disagrees with RFC 7636", verifier)
		}
		if got := VerifyPKCE(S256(verifier), verifier); got != (ValidPKCEValue(verifier)) {
			t.Fatalf("VerifyPKCE(S256(v), v) = %v for %q", got, verifier)
		}
		if other != verifier && VerifyPKCE(S256(verifier), other) {
			t.Fatalf("%q matched the challenge of %q", other, verifier)
		}
		if VerifyPKCE("", verifier) != (verifier == "") {
			t.Fatal("a verifier was accepted for a code without a challenge")
		}
	})
}

func TestPKCEVector(t *testing.T) {
	// RFC 7636 Appendix B.
	if got := S256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatalf("S256 = %s", got)
	}
}

func TestTokens(t *testing.T) {
	for _, c := range []struct {
		make   func() (string, string)
		prefix string
	}{{NewAccessToken, AccessPrefix}, {NewRefreshToken, RefreshPrefix}, {NewCode, CodePrefix}} {
		raw, hash := c.make()
		raw2, _ := c.make()
		if !LooksLike(raw, c.prefix) || raw == raw2 || hash != Hash(raw) || len(hash) != 64 || strings.Contains(raw, hash) {
			t.Fatalf("token %q hash %q", raw, hash)
		}
		for _, p := range []string{AccessPrefix, RefreshPrefix, CodePrefix} {
			if p != c.prefix && LooksLike(raw, p) {
				t.Fatalf("%q looks like a %s token", raw, p)
			}
		}
	}
}

func TestWriteError(t *testing.T) {
	lg := slog.New(slog.NewTextHandler(t.Output(), nil))
	cases := []struct {
		err    error
		status int
		code   string
		auth   bool
	}{
		{fmt.Errorf("wrong secret: %w", ErrInvalidClient), 401, "invalid_client", true},
		{InvalidRequest("The code parameter is missing."), 400, "invalid_request", false},
		{fmt.Errorf("expired: %w", ErrInvalidGrant), 400, "invalid_grant", false},
		{errors.New("database is on fire"), 500, "server_error", false},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		WriteError(w, httptest.NewRequest(http.MethodPost, "/oauth/token", nil), lg, c.err)
		var body map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if w.Code != c.status || body["error"] != c.code || body["error_description"] == "" {
			t.Fatalf("%v: %d %v", c.err, w.Code, body)
		}
		if strings.Contains(w.Body.String(), "fire") || strings.Contains(w.Body.String(), "wrong secret") {
			t.Fatalf("details leaked: %s", w.Body)
		}
		if (w.Header().Get("WWW-Authenticate") == `Basic realm="grantflow"`) != c.auth || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%v: headers %v", c.err, w.Header())
		}
	}
	if !errors.Is(InvalidRequest("x"), ErrInvalidRequest) || errors.Is(ErrInvalidGrant, ErrInvalidRequest) {
		t.Fatal("errors.Is by code")
	}
}
