package registry

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

const jsonType = "application/json"

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return v
}

func TestAPIRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.alice.ID

	// Only an operator makes a resource server (it may introspect every
	// integration's tokens).
	r := e.do(t, request{method: "POST", path: "/api/integrations", as: a, csrf: true, contentType: jsonType,
		body: `{"name":"Inventory sync","redirect_uris":["https://app.example.com/cb"],"scopes":"dashboard:general:config:read","resource_server":true}`})
	if r.status != 400 || !strings.Contains(r.body, "Only an operator") {
		t.Fatalf("self-service resource server: %d %s", r.status, r.body)
	}
	r = e.do(t, request{method: "POST", path: "/api/integrations", as: a, csrf: true, contentType: jsonType,
		body: `{"name":"Inventory sync","redirect_uris":["https://app.example.com/cb"],"scopes":"dashboard:general:config:read wireless:config:read"}`})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	created := decode[integrationJSON](t, r)
	if !clientIDRE.MatchString(created.ClientID) || !secretRE.MatchString(created.ClientSecret) ||
		created.Name != "Inventory sync" || created.ResourceServer ||
		!slices.Equal(created.Scopes, []string{"dashboard:general:config:read", "wireless:config:read"}) {
		t.Fatalf("created = %+v", created)
	}
	if r.header.Get("Location") != "/api/integrations/"+created.ClientID || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("create headers: %v", r.header)
	}
	stored, err := e.svc.Get(context.Background(), created.ClientID)
	if err != nil || stored.OwnerAccountID != a || !VerifySecret(stored, created.ClientSecret) {
		t.Fatalf("stored %+v (%v)", stored, err)
	}

	// Listing and reading never show the secret again.
	r = e.do(t, request{method: "GET", path: "/api/integrations", as: a})
	list := decode[[]integrationJSON](t, r)
	if r.status != 200 || len(list) != 1 || list[0].ClientID != created.ClientID || strings.Contains(r.body, "client_secret") {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r.header.Get("X-CSRF-Token") != csrfFor(a) {
		t.Errorf("GET answer carries CSRF token %q", r.header.Get("X-CSRF-Token"))
	}
	r = e.do(t, request{method: "GET", path: "/api/integrations/" + created.ClientID, as: a})
	if r.status != 200 || strings.Contains(r.body, "client_secret") || decode[integrationJSON](t, r).Name != "Inventory sync" {
		t.Fatalf("get: %d %s", r.status, r.body)
	}

	r = e.do(t, request{method: "PATCH", path: "/api/integrations/" + created.ClientID, as: a, csrf: true, contentType: jsonType,
		body: `{"name":"Renamed","scopes":["switch:config:read"],"resource_server":false}`})
	patched := decode[integrationJSON](t, r)
	if r.status != 200 || patched.Name != "Renamed" || !slices.Equal(patched.Scopes, []string{"switch:config:read"}) ||
		patched.ResourceServer || !slices.Equal(patched.RedirectURIs, created.RedirectURIs) {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}

	r = e.do(t, request{method: "POST", path: "/api/integrations/" + created.ClientID + "/rotate-secret", as: a, csrf: true})
	rotated := decode[map[string]string](t, r)
	if r.status != 200 || rotated["client_id"] != created.ClientID || !secretRE.MatchString(rotated["client_secret"]) ||
		rotated["client_secret"] == created.ClientSecret {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	stored, _ = e.svc.Get(context.Background(), created.ClientID)
	if VerifySecret(stored, created.ClientSecret) || !VerifySecret(stored, rotated["client_secret"]) {
		t.Error("rotation over the API did not replace the secret")
	}

	r = e.do(t, request{method: "DELETE", path: "/api/integrations/" + created.ClientID, as: a, csrf: true})
	if r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	r = e.do(t, request{method: "GET", path: "/api/integrations/" + created.ClientID, as: a})
	if r.status != 404 || decode[map[string]string](t, r)["error"] == "" {
		t.Fatalf("get after delete: %d %s", r.status, r.body)
	}

	if acts := e.actionsFor(t, created.ClientID); !slices.Equal(acts, []string{"client.created", "client.updated", "client.secret_rotated", "client.deleted"}) {
		t.Errorf("audit actions = %v", acts)
	}
	for _, ev := range e.events(t) {
		if ev.ActorAccountID != a {
			t.Errorf("%s recorded actor %q, want %q", ev.Action, ev.ActorAccountID, a)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _ := e.create(t, e.alice.ID)
	one := "/api/integrations/" + c.ID
	valid := `{"name":"x","redirect_uris":["https://a.example/cb"],"scopes":["sm:config:read"]}`
	tests := []struct {
		name string
		rq   request
		code int
		want string // substring of the error
	}{
		{"list not logged in", request{method: "GET", path: "/api/integrations"}, 401, "log in"},
		{"create not logged in", request{method: "POST", path: "/api/integrations", contentType: jsonType, body: valid}, 401, "log in"},
		{"create without CSRF", request{method: "POST", path: "/api/integrations", as: e.alice.ID, contentType: jsonType, body: valid}, 403, "CSRF"},
		{"patch without CSRF", request{method: "PATCH", path: one, as: e.alice.ID, contentType: jsonType, body: `{"name":"y"}`}, 403, "CSRF"},
		{"delete without CSRF", request{method: "DELETE", path: one, as: e.alice.ID}, 403, "CSRF"},
		{"rotate without CSRF", request{method: "POST", path: one + "/rotate-secret", as: e.alice.ID}, 403, "CSRF"},
		{"another account's CSRF token", request{method: "DELETE", path: one, as: e.alice.ID, csrfFrom: e.bob.ID}, 403, "CSRF"},
		{"unknown field", request{method: "POST", path: "/api/integrations", as: e.alice.ID, csrf: true, contentType: jsonType,
			body: `{"name":"x","redirect_uris":["https://a.example/cb"],"scopes":["sm:config:read"],"first_party":true}`}, 400, `unknown field "first_party"`},
		{"unknown field in patch", request{method: "PATCH", path: one, as: e.alice.ID, csrf: true, contentType: jsonType,
			body: `{"refresh_grace":"1m"}`}, 400, "unknown field"},
		{"not JSON", request{method: "POST", path: "/api/integrations", as: e.alice.ID, csrf: true, contentType: jsonType, body: `{"name":`}, 400, "not valid JSON"},
		{"two objects", request{method: "POST", path: "/api/integrations", as: e.alice.ID, csrf: true, contentType: jsonType, body: valid + valid}, 400, "single JSON object"},
		{"wrong type", request{method: "POST", path: "/api/integrations", as: e.alice.ID, csrf: true, contentType: jsonType, body: `{"name":3}`}, 400, "name"},
		{"form body", request{method: "POST", path: "/api/integrations", as: e.alice.ID, csrf: true, contentType: "application/x-www-form-urlencoded", body: "name=x"}, 415, "application/json"},
		{"validation", request{method: "POST", path: "/api/integrations", as: e.alice.ID, csrf: true, contentType: jsonType,
			body: `{"name":"","redirect_uris":["http://evil.example/cb"],"scopes":"admin"}`}, 400, "name: enter a name; redirect URI"},
		{"unknown id", request{method: "GET", path: "/api/integrations/gfc_nope", as: e.alice.ID}, 404, "no such integration"},
		// Go's decoder would store U+FFFD for the bad byte.
		{"invalid UTF-8", request{method: "POST", path: "/api/integrations", as: e.alice.ID, csrf: true, contentType: jsonType,
			body: `{"name":"x` + "\xff" + `","redirect_uris":["https://a.example/cb"],"scopes":["sm:config:read"]}`}, 400, "UTF-8"},
		{"too large", request{method: "POST", path: "/api/integrations", as: e.alice.ID, csrf: true, contentType: jsonType,
			body: `{"name":"` + strings.Repeat("x", maxBodyBytes) + `"}`}, 413, "larger than"},
	}
	for _, tt := range tests {
		r := e.do(t, tt.rq)
		if r.status != tt.code {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, r.status, tt.code, r.body)
			continue
		}
		if msg := decode[map[string]any](t, r)["error"]; !strings.Contains(msg.(string), tt.want) {
			t.Errorf("%s: error %q, want it to mention %q", tt.name, msg, tt.want)
		}
	}

	// Validation answers list every problem.
	r := e.do(t, request{method: "POST", path: "/api/integrations", as: e.alice.ID, csrf: true, contentType: jsonType,
		body: `{"name":"","redirect_uris":["http://evil.example/cb"],"scopes":"admin"}`})
	if problems := decode[struct{ Problems []string }](t, r).Problems; len(problems) != 3 {
		t.Errorf("problems = %q, want 3", problems)
	}
	if list, _ := e.svc.List(context.Background(), ""); len(list) != 1 {
		t.Errorf("refused requests stored integrations: %d", len(list))
	}
	stored, _ := e.svc.Get(context.Background(), c.ID)
	if stored.Name != c.Name {
		t.Errorf("a refused PATCH renamed the integration to %q", stored.Name)
	}
}

func TestAPIOwnerIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, secret := e.create(t, e.alice.ID)
	one := "/api/integrations/" + c.ID
	bob := e.bob.ID
	for _, rq := range []request{
		{method: "GET", path: one, as: bob},
		{method: "PATCH", path: one, as: bob, csrf: true, contentType: jsonType, body: `{"name":"Mine now"}`},
		{method: "POST", path: one + "/rotate-secret", as: bob, csrf: true},
		{method: "DELETE", path: one, as: bob, csrf: true},
	} {
		if r := e.do(t, rq); r.status != 404 {
			t.Errorf("bob %s %s: %d %s, want 404", rq.method, rq.path, r.status, r.body)
		}
	}
	r := e.do(t, request{method: "GET", path: "/api/integrations", as: bob})
	if r.status != 200 || strings.TrimSpace(r.body) != "[]" {
		t.Errorf("bob's list: %d %s", r.status, r.body)
	}
	stored, err := e.svc.Get(context.Background(), c.ID)
	if errors.Is(err, ErrNotFound) || stored.Name != c.Name || !VerifySecret(stored, secret) {
		t.Errorf("bob changed alice's integration: %+v %v", stored, err)
	}
}
