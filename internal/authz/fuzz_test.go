package authz

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/scope"
)

// FuzzParseBasic: any header parses or fails with invalid_client, never
// panics, and what a client encodes per RFC 6749 §2.3.1 comes back intact.
func FuzzParseBasic(f *testing.F) {
	f.Add("client-1", "s3cr3t")
	f.Add("a:b", "c:d%")
	f.Add("", "x")
	f.Add("ü+ ", "\x00")
	f.Fuzz(func(t *testing.T, id, secret string) {
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		gotID, gotSecret, ok, err := parseBasic(r.Header.Get("Authorization"))
		if id == "" {
			if ok || !errors.Is(err, oauth.ErrInvalidClient) {
				t.Fatalf("empty id accepted: %v %v", ok, err)
			}
			return
		}
		if err != nil || !ok || gotID != id || gotSecret != secret {
			t.Fatalf("round trip (%q, %q) -> (%q, %q, %v, %v)", id, secret, gotID, gotSecret, ok, err)
		}
	})
}

// FuzzClientCredentials throws arbitrary headers and bodies at the
// credential parser: it never panics, never accepts two methods at once,
// and fails only with an OAuth error.
func FuzzClientCredentials(f *testing.F) {
	f.Add("Basic "+base64.StdEncoding.EncodeToString([]byte("id:secret")), "grant_type=refresh_token")
	f.Add("Basic "+base64.StdEncoding.EncodeToString([]byte("id:secret")), "client_id=id&client_secret=secret")
	f.Add("Basic !!!", "client_id=x")
	f.Add("Bearer abc", "client_id=id&client_secret=%zz")
	f.Add("", "client_id=id&client_secret=s&client_id=other")
	f.Fuzz(func(t *testing.T, header, body string) {
		r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/oauth/token", strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", header)
		if r.ParseForm() != nil {
			return
		}
		cred, err := parseClientCredentials(r)
		if err != nil {
			if _, ok := oauth.As(err); !ok {
				t.Fatalf("non-OAuth error %v", err)
			}
			return
		}
		if cred.ID == "" || cred.Secret == "" && cred.Method == "client_secret_post" {
			t.Fatalf("accepted empty credentials %+v", cred)
		}
		if cred.Method == "client_secret_basic" && r.PostForm.Get("client_secret") != "" {
			t.Fatal("accepted Basic and client_secret_post together")
		}
	})
}

// FuzzParseScope: a scope parameter yields known, sorted, distinct scopes
// or invalid_scope, and the wire form parses back to the same list.
func FuzzParseScope(f *testing.F) {
	f.Add("dashboard:general:config:read wireless:telemetry:read")
	f.Add("  sm:config:write  sm:config:write ")
	f.Add("nope\x7f")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		list, err := parseScope(s)
		if err != nil {
			if !errors.Is(err, oauth.ErrInvalidScope) {
				t.Fatalf("error %v is not invalid_scope", err)
			}
			return
		}
		if len(list) == 0 || !slices.IsSorted(list) || len(slices.Compact(slices.Clone(list))) != len(list) {
			t.Fatalf("list %q", list)
		}
		for _, sc := range list {
			if !scope.Known(sc) {
				t.Fatalf("unknown scope %q accepted", sc)
			}
		}
		again, err := parseScope(scope.Format(list))
		if err != nil || !slices.Equal(again, list) {
			t.Fatalf("round trip %q -> %q %v", list, again, err)
		}
	})
}
