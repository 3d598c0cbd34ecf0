package registry

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/scope"
)

const formType = "application/x-www-form-urlencoded"

// post submits a page form as account, with its CSRF token when csrf is set.
func (e *env) post(t *testing.T, path, account string, csrf bool, form url.Values) response {
	t.Helper()
	form = cloneValues(form)
	if csrf {
		form.Set("csrf_token", csrfFor(account))
	}
	return e.do(t, request{method: "POST", path: path, as: account, contentType: formType, body: form.Encode()})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func TestPagesNeedLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _ := e.create(t, e.alice.ID)
	for _, path := range []string{"/integrations", "/integrations/new", "/integrations/" + c.ID, "/integrations/" + c.ID + "/delete?x=1"} {
		r := e.do(t, request{method: "GET", path: path})
		if want := "/login?return_to=" + url.QueryEscape(path); r.status != 303 || r.header.Get("Location") != want {
			t.Errorf("GET %s: %d to %q, want 303 to %q", path, r.status, r.header.Get("Location"), want)
		}
	}
	r := e.post(t, "/integrations/"+c.ID+"/delete", "", false, nil)
	if r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/login?") {
		t.Errorf("anonymous POST delete: %d %s", r.status, r.header.Get("Location"))
	}
	if _, err := e.svc.Get(context.Background(), c.ID); err != nil {
		t.Errorf("anonymous POST deleted the integration: %v", err)
	}
}

func TestPagesCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.alice.ID

	r := e.do(t, request{method: "GET", path: "/integrations/new", as: a})
	if r.status != 200 {
		t.Fatalf("new form: %d", r.status)
	}
	for _, want := range []string{
		`name="csrf_token" value="` + csrfFor(a) + `"`,
		`name="scope" value="dashboard:general:config:read"`,
		`name="scope" value="sm:telemetry:write"`,
		scope.Describe("wireless:config:write"),
		"<legend>Wireless</legend>",
		"alice@example.com",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("new form lacks %q", want)
		}
	}
	if n := strings.Count(r.body, `name="scope"`); n != len(scope.All()) {
		t.Errorf("form has %d scope checkboxes, want %d", n, len(scope.All()))
	}

	form := url.Values{
		"name":          {"Inventory sync"},
		"redirect_uris": {"https://app.example.com/cb\r\n\r\n  http://127.0.0.1:8080/cb  \r\n"},
		"scope":         {"dashboard:general:config:read", "wireless:config:read"},
	}

	// Without the CSRF token nothing is created.
	r = e.post(t, "/integrations", a, false, form)
	if r.status != 403 {
		t.Errorf("create without CSRF: %d", r.status)
	}
	if list, _ := e.svc.List(context.Background(), ""); len(list) != 0 {
		t.Fatalf("create without CSRF stored %d integrations", len(list))
	}

	r = e.post(t, "/integrations", a, true, form)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	secret, id := findSecret.FindString(r.body), findID.FindString(r.body)
	if secret == "" || id == "" || !strings.Contains(r.body, "shown only once") || r.header.Get("Cache-Control") != "no-store" ||
		!strings.Contains(r.body, `data-copy="client_secret"`) || !strings.Contains(r.body, `src="/static/copy.js"`) {
		t.Fatalf("secret page lacks the id, secret, warning or no-store: %v\n%s", r.header, r.body)
	}
	c, err := e.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.OwnerAccountID != a || c.Name != "Inventory sync" || !VerifySecret(c, secret) || c.ResourceServer ||
		!slices.Equal(c.RedirectURIs, []string{"https://app.example.com/cb", "http://127.0.0.1:8080/cb"}) ||
		!slices.Equal(c.Scopes, []string{"dashboard:general:config:read", "wireless:config:read"}) {
		t.Errorf("stored %+v", c)
	}

	r = e.do(t, request{method: "GET", path: "/integrations", as: a})
	for _, want := range []string{"My integrations", "Inventory sync", id, "wireless:config:read", "http://127.0.0.1:8080/cb", "2026-03-01 09:00 UTC"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	if strings.Contains(r.body, secret) {
		t.Error("the list shows the secret")
	}
	if acts := e.actionsFor(t, id); !slices.Equal(acts, []string{"client.created"}) || e.events(t)[0].ActorAccountID != a {
		t.Errorf("audit: %v", acts)
	}
}

func TestPagesValidationKeepsInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.post(t, "/integrations", e.alice.ID, true, url.Values{
		"name":            {"My <app>"},
		"redirect_uris":   {"http://app.example.com/cb\nhttps://ok.example.com/cb"},
		"scope":           {"camera:config:write"},
		"resource_server": {"1"}, // crafted: the form has no such field
	})
	if r.status != 400 {
		t.Fatalf("status %d", r.status)
	}
	for _, want := range []string{
		"http://app.example.com/cb&#34;: use https", // the problem, escaped
		`value="My &lt;app&gt;"`,                    // the name as typed
		"https://ok.example.com/cb</textarea>",      // the URIs as typed
		`value="camera:config:write" checked`,       // the scope still ticked
		"Only an operator can make an integration a resource server",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("re-rendered form lacks %q", want)
		}
	}
	if strings.Contains(r.body, `value="camera:config:read" checked`) {
		t.Error("an unticked scope came back ticked")
	}
}

func TestPagesEditRotateDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.alice.ID
	c, old := e.create(t, a)
	edit := "/integrations/" + c.ID

	r := e.do(t, request{method: "GET", path: edit, as: a})
	if r.status != 200 || !strings.Contains(r.body, `value="Alice&#39;s app"`) || !strings.Contains(r.body, `value="dashboard:general:config:read" checked`) {
		t.Fatalf("edit page: %d\n%s", r.status, r.body)
	}

	// An operator made it a resource server; the owner's edit keeps that.
	if _, err := e.svc.Update(context.Background(), c.ID, UpdateParams{ResourceServer: new(true)}); err != nil {
		t.Fatal(err)
	}
	r = e.post(t, edit, a, true, url.Values{"name": {"Renamed"}, "redirect_uris": {"https://app.example.com/new"}, "scope": {"sm:config:read"}})
	if r.status != 303 || r.header.Get("Location") != edit+"?done=saved" {
		t.Fatalf("update: %d %s", r.status, r.header.Get("Location"))
	}
	got, _ := e.svc.Get(context.Background(), c.ID)
	if got.Name != "Renamed" || !got.ResourceServer || !slices.Equal(got.Scopes, []string{"sm:config:read"}) ||
		!slices.Equal(got.RedirectURIs, []string{"https://app.example.com/new"}) {
		t.Errorf("after update: %+v", got)
	}
	if r = e.do(t, request{method: "GET", path: edit + "?done=saved", as: a}); !strings.Contains(r.body, "Changes saved.") {
		t.Error("no flash after saving")
	}

	r = e.post(t, edit, a, true, url.Values{"name": {""}, "redirect_uris": {"https://app.example.com/new"}, "scope": {"sm:config:read"}})
	if r.status != 400 || !strings.Contains(r.body, "enter a name") {
		t.Errorf("invalid update: %d", r.status)
	}

	if r = e.do(t, request{method: "GET", path: edit + "/rotate-secret", as: a}); r.status != 200 || !strings.Contains(r.body, `action="`+edit+`/rotate-secret"`) {
		t.Errorf("rotate confirmation: %d", r.status)
	}
	r = e.post(t, edit+"/rotate-secret", a, true, nil)
	secret := findSecret.FindString(r.body)
	if r.status != 200 || secret == "" || secret == old || !strings.Contains(r.body, "shown only once") {
		t.Fatalf("rotate: %d", r.status)
	}
	got, _ = e.svc.Get(context.Background(), c.ID)
	if VerifySecret(got, old) || !VerifySecret(got, secret) {
		t.Error("rotation did not replace the secret")
	}

	if r = e.do(t, request{method: "GET", path: edit + "/delete", as: a}); r.status != 200 || !strings.Contains(r.body, "cannot be undone") {
		t.Errorf("delete confirmation: %d", r.status)
	}
	if r = e.post(t, edit+"/delete", a, false, nil); r.status != 403 {
		t.Errorf("delete without CSRF: %d", r.status)
	}
	r = e.post(t, edit+"/delete", a, true, nil)
	if r.status != 303 || r.header.Get("Location") != "/integrations?done=deleted" {
		t.Fatalf("delete: %d %s", r.status, r.header.Get("Location"))
	}
	if _, err := e.svc.Get(context.Background(), c.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if acts := e.actionsFor(t, c.ID); !slices.Equal(acts, []string{"client.created", "client.updated", "client.updated", "client.secret_rotated", "client.deleted"}) {
		t.Errorf("audit actions = %v", acts)
	}
}

func TestPagesOwnerIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, secret := e.create(t, e.alice.ID)
	edit := "/integrations/" + c.ID
	bob := e.bob.ID
	valid := url.Values{"name": {"Mine now"}, "redirect_uris": {"https://evil.example/cb"}, "scope": {"sm:config:read"}}
	invalid := url.Values{"name": {""}}
	for _, tc := range []struct {
		name string
		r    response
	}{
		{"edit page", e.do(t, request{method: "GET", path: edit, as: bob})},
		{"rotate confirmation", e.do(t, request{method: "GET", path: edit + "/rotate-secret", as: bob})},
		{"delete confirmation", e.do(t, request{method: "GET", path: edit + "/delete", as: bob})},
		{"update", e.post(t, edit, bob, true, valid)},
		{"invalid update", e.post(t, edit, bob, true, invalid)},
		{"rotate", e.post(t, edit+"/rotate-secret", bob, true, nil)},
		{"delete", e.post(t, edit+"/delete", bob, true, nil)},
	} {
		if tc.r.status != 404 || strings.Contains(tc.r.body, c.Name) {
			t.Errorf("bob's %s: %d (or the page names the integration)", tc.name, tc.r.status)
		}
	}
	if r := e.do(t, request{method: "GET", path: "/integrations", as: bob}); strings.Contains(r.body, c.ID) {
		t.Error("bob's list shows alice's integration")
	}
	got, err := e.svc.Get(context.Background(), c.ID)
	if err != nil || got.Name != c.Name || !VerifySecret(got, secret) {
		t.Errorf("alice's integration changed: %+v %v", got, err)
	}
}
