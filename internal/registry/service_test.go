package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

func TestCheckRedirectURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		uri  string
		want string // substring of the problem; "" when accepted
	}{
		{"https://app.example.com/cb", ""},
		{"https://app.example.com:8443/oauth/cb?tenant=1", ""},
		{"http://127.0.0.1:8080/cb", ""},
		{"http://[::1]:9000/cb", ""},
		{"http://localhost/cb", ""},
		{"http://app.example.com/cb", "use https"},
		{"http://127.0.0.1.nip.io/cb", "use https"},
		{"http://localhost.example.com/cb", "use https"},
		{"https://app.example.com/cb#section", "fragment"},
		{"https://app.example.com/cb#", "fragment"},
		{"/oauth/cb", "absolute"},
		{"app.example.com/cb", "absolute"},
		{"https:///cb", "absolute"},
		{"javascript:alert(1)", "absolute"},
		{"ftp://files.example.com/cb", "must use https"},
		{"myapp://callback", "must use https"},
		{"https://user:pw@app.example.com/cb", "user name"},
		{"https://app.example.com/a b", "spaces"},
		{"https://app.example.com/\u00e9", "percent-encoded"},
		{"", "empty"},
		{"https://app.example.com:port/cb", "not a valid URI"},
		{"https://app.example.com/cb?code=1", `"code"`},
		{"https://app.example.com/cb?tenant=1&state=x", `"state"`},
		{"https://app.example.com/cb?iss=https://evil.example", `"iss"`},
		{"https://app.example.com/cb?error=access_denied", `"error"`},
		{"https://app.example.com/cb?error_description=", `"error_description"`},
		{"https://app.example.com/cb?error_uri", `"error_uri"`},
		{"https://app.example.com/cb?a=%zz", "query is not valid"},
		{"https://app.example.com/cb?codes=1&State=2&scope=x", ""},
	}
	for _, tt := range tests {
		got := checkRedirectURI(tt.uri)
		if tt.want == "" && got != "" {
			t.Errorf("checkRedirectURI(%q) = %q, want accepted", tt.uri, got)
		}
		if tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("checkRedirectURI(%q) = %q, want a problem mentioning %q", tt.uri, got, tt.want)
		}
	}
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	valid := CreateParams{
		Name:         "Inventory sync",
		RedirectURIs: []string{"https://app.example.com/cb", "http://127.0.0.1:8080/cb"},
		Scopes:       []string{"dashboard:general:config:read"},
	}
	tests := []struct {
		name   string
		modify func(*CreateParams)
		want   []string // substrings, one per expected problem
	}{
		{"empty name", func(p *CreateParams) { p.Name = "  " }, []string{"name: enter a name"}},
		{"long name", func(p *CreateParams) { p.Name = strings.Repeat("é", 101) }, []string{"at most 100"}},
		{"no redirect URI", func(p *CreateParams) { p.RedirectURIs = nil }, []string{"at least one"}},
		{"duplicate redirect URI", func(p *CreateParams) {
			p.RedirectURIs = []string{"https://a.example/cb", "https://a.example/cb"}
		}, []string{"listed twice"}},
		{"http non-loopback", func(p *CreateParams) { p.RedirectURIs = []string{"http://a.example/cb"} }, []string{"use https"}},
		{"fragment", func(p *CreateParams) { p.RedirectURIs = []string{"https://a.example/cb#x"} }, []string{"fragment"}},
		{"relative", func(p *CreateParams) { p.RedirectURIs = []string{"/cb"} }, []string{"absolute"}},
		{"no scopes", func(p *CreateParams) { p.Scopes = nil }, []string{"choose at least one"}},
		{"unknown scope", func(p *CreateParams) {
			p.Scopes = []string{"dashboard:general:config:read", "organizations:read"}
		}, []string{"not Meraki scopes: organizations:read"}},
		{"malformed scope", func(p *CreateParams) { p.Scopes = []string{`a"b`} }, []string{"malformed"}},
		{"grace too long", func(p *CreateParams) { p.RefreshGrace = 11 * time.Minute }, []string{"refresh grace"}},
		{"negative grace", func(p *CreateParams) { p.RefreshGrace = -time.Second }, []string{"refresh grace"}},
		{"everything at once", func(p *CreateParams) {
			p.Name = ""
			p.RedirectURIs = []string{"http://a.example/cb", "https://b.example/cb#frag", "relative/cb"}
			p.Scopes = []string{"nope:read"}
			p.RefreshGrace = time.Hour
		}, []string{"name", "http://a.example/cb", "b.example/cb#frag", "relative/cb", "nope:read", "refresh grace"}},
	}
	for _, tt := range tests {
		p := valid
		tt.modify(&p)
		_, secret, err := e.svc.Create(ctx, p)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want a ValidationError", tt.name, err)
			continue
		}
		if secret != "" {
			t.Errorf("%s: a secret was returned with a validation error", tt.name)
		}
		if len(ve.Problems) != len(tt.want) {
			t.Errorf("%s: problems = %q, want %d", tt.name, ve.Problems, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(ve.Problems[i], w) {
				t.Errorf("%s: problem %d = %q, want it to mention %q", tt.name, i, ve.Problems[i], w)
			}
		}
	}
	if cs, err := e.svc.List(ctx, ""); err != nil || len(cs) != 0 {
		t.Fatalf("invalid input stored %d integrations (err %v)", len(cs), err)
	}

	// The valid parameters pass, and the accepted ones are stored as given.
	c, _, err := e.svc.Create(ctx, valid)
	if err != nil {
		t.Fatalf("valid create: %v", err)
	}
	if !slices.Equal(c.RedirectURIs, valid.RedirectURIs) {
		t.Errorf("redirect URIs = %q, want %q unchanged", c.RedirectURIs, valid.RedirectURIs)
	}
}

func TestCreateSecretAndHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c, secret, err := e.svc.Create(ctx, CreateParams{
		OwnerAccountID: e.alice.ID,
		Name:           "  Inventory sync ",
		RedirectURIs:   []string{"https://app.example.com/cb"},
		// One element holding several, duplicated: the CLI's --scope form.
		Scopes:         []string{"wireless:config:write dashboard:general:config:read", "dashboard:general:config:read"},
		ResourceServer: true,
		FirstParty:     true,
		RefreshGrace:   30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !secretRE.MatchString(secret) {
		t.Errorf("secret %q does not match %s", secret, secretRE)
	}
	if !clientIDRE.MatchString(c.ID) {
		t.Errorf("client id %q does not match %s", c.ID, clientIDRE)
	}
	stored, err := e.st.Clients().GetClient(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SecretHash != HashSecret(secret) || len(stored.SecretHash) != 64 || strings.Contains(stored.SecretHash, secret) {
		t.Errorf("stored secret hash = %q, want the SHA-256 hex of the secret", stored.SecretHash)
	}
	if !VerifySecret(stored, secret) || VerifySecret(stored, secret+"x") || VerifySecret(stored, "") {
		t.Error("VerifySecret does not tell the secret from others")
	}
	want := store.Client{
		ID: c.ID, OwnerAccountID: e.alice.ID, Name: "Inventory sync", SecretHash: HashSecret(secret),
		RedirectURIs:   []string{"https://app.example.com/cb"},
		Scopes:         []string{"dashboard:general:config:read", "wireless:config:write"},
		ResourceServer: true, FirstParty: true, RefreshGrace: 30 * time.Second,
		CreatedAt: store.Micro(e.clock.now()), UpdatedAt: store.Micro(e.clock.now()),
	}
	if fmt.Sprint(stored) != fmt.Sprint(want) {
		t.Errorf("stored\n %+v\nwant\n %+v", stored, want)
	}

	// Two integrations never share an id or a secret.
	c2, secret2, err := e.svc.Create(ctx, CreateParams{Name: "Other", RedirectURIs: []string{"https://b.example/cb"}, Scopes: []string{"sm:telemetry:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID == c.ID || secret2 == secret {
		t.Error("two integrations got the same id or secret")
	}

	evs := e.events(t)
	if len(evs) != 2 || evs[1].Action != "client.created" || evs[1].Target != c.ID || evs[1].ActorAccountID != "" {
		t.Fatalf("audit = %+v, want client.created for %s without an actor (CLI)", evs, c.ID)
	}
	if evs[1].Details["scopes"] != "dashboard:general:config:read wireless:config:write" || evs[1].Details["owner"] != e.alice.ID {
		t.Errorf("client.created details = %v", evs[1].Details)
	}
	for _, ev := range evs {
		if strings.Contains(fmt.Sprint(ev), secret) || strings.Contains(fmt.Sprint(ev), secret2) || strings.Contains(fmt.Sprint(ev), HashSecret(secret)) {
			t.Errorf("audit event %s carries the secret or its hash", ev.Action)
		}
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c, _ := e.create(t, e.alice.ID)
	e.clock.advance(time.Minute)

	name := "Renamed"
	uris := []string{"https://app.example.com/cb", "https://app.example.com/cb2"}
	scopes := []string{"switch:config:read"}
	rs := false // unchanged
	got, err := e.svc.UpdateAs(ctx, e.alice.ID, c.ID, UpdateParams{Name: &name, RedirectURIs: &uris, Scopes: &scopes, ResourceServer: &rs})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != name || !slices.Equal(got.RedirectURIs, uris) || !slices.Equal(got.Scopes, scopes) ||
		!got.UpdatedAt.Equal(store.Micro(e.clock.now())) || got.SecretHash != c.SecretHash {
		t.Errorf("after update: %+v", got)
	}
	if stored, _ := e.svc.Get(ctx, c.ID); fmt.Sprint(stored) != fmt.Sprint(got) {
		t.Errorf("stored %+v, returned %+v", stored, got)
	}
	evs := e.events(t)
	if evs[0].Action != "client.updated" || evs[0].ActorAccountID != e.alice.ID || evs[0].Target != c.ID ||
		evs[0].Details["fields"] != "name,redirect_uris,scopes" || evs[0].Details["scopes"] != "switch:config:read" {
		t.Errorf("audit = %+v", evs[0])
	}

	// An update that changes nothing writes nothing.
	e.clock.advance(time.Minute)
	same, err := e.svc.UpdateAs(ctx, e.alice.ID, c.ID, UpdateParams{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if !same.UpdatedAt.Equal(got.UpdatedAt) || len(e.actionsFor(t, c.ID)) != 2 {
		t.Errorf("a no-op update changed UpdatedAt or was audited: %v", e.actionsFor(t, c.ID))
	}

	// Invalid fields are all reported and nothing changes.
	bad := []string{"http://evil.example/cb"}
	badScopes := []string{"root"}
	grace := time.Hour
	_, err = e.svc.Update(ctx, c.ID, UpdateParams{RedirectURIs: &bad, Scopes: &badScopes, RefreshGrace: &grace})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("err = %v, want 3 problems", err)
	}
	if stored, _ := e.svc.Get(ctx, c.ID); !slices.Equal(stored.RedirectURIs, uris) {
		t.Errorf("invalid update changed the redirect URIs to %q", stored.RedirectURIs)
	}

	// The operator (CLI) may change the refresh grace of any integration.
	grace = 20 * time.Second
	got, err = e.svc.Update(ctx, c.ID, UpdateParams{RefreshGrace: &grace})
	if err != nil || got.RefreshGrace != grace {
		t.Fatalf("update grace: %v, %v", got.RefreshGrace, err)
	}
	if _, err := e.svc.Update(ctx, "gfc_missing", UpdateParams{Name: &name}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of unknown integration: %v, want ErrNotFound", err)
	}
}

func TestRotateSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c, old := e.create(t, e.alice.ID)

	got, secret, err := e.svc.RotateSecretAs(ctx, e.alice.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !secretRE.MatchString(secret) || secret == old || got.ID != c.ID {
		t.Fatalf("rotate returned %q for %s", secret, got.ID)
	}
	stored, err := e.st.Clients().GetClient(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SecretHash != HashSecret(secret) || VerifySecret(stored, old) || !VerifySecret(stored, secret) {
		t.Error("after rotation the old secret still works or the new one does not")
	}
	if acts := e.actionsFor(t, c.ID); !slices.Equal(acts, []string{"client.created", "client.secret_rotated"}) {
		t.Errorf("audit actions = %v", acts)
	}
	if ev := e.events(t)[0]; len(ev.Details) != 0 || ev.ActorAccountID != e.alice.ID {
		t.Errorf("client.secret_rotated = %+v, want no details and alice as actor", ev)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c, _ := e.create(t, e.alice.ID)
	if err := e.svc.DeleteAs(ctx, e.alice.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(ctx, c.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
	if err := e.svc.Delete(ctx, c.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if acts := e.actionsFor(t, c.ID); !slices.Equal(acts, []string{"client.created", "client.deleted"}) {
		t.Errorf("audit actions = %v", acts)
	}
}

func TestOwnerIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c, secret := e.create(t, e.alice.ID)
	cli, _, err := e.svc.Create(ctx, CreateParams{Name: "No owner", RedirectURIs: []string{"https://x.example/cb"}, Scopes: []string{"sm:config:read"}})
	if err != nil {
		t.Fatal(err)
	}
	name := "Stolen"
	for _, tc := range []struct{ account, id string }{{e.bob.ID, c.ID}, {"", cli.ID}, {"", c.ID}} {
		if _, err := e.svc.GetAs(ctx, tc.account, tc.id); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetAs(%q, %s) = %v, want ErrNotFound", tc.account, tc.id, err)
		}
		if _, err := e.svc.UpdateAs(ctx, tc.account, tc.id, UpdateParams{Name: &name}); !errors.Is(err, ErrNotFound) {
			t.Errorf("UpdateAs(%q, %s) = %v, want ErrNotFound", tc.account, tc.id, err)
		}
		if _, _, err := e.svc.RotateSecretAs(ctx, tc.account, tc.id); !errors.Is(err, ErrNotFound) {
			t.Errorf("RotateSecretAs(%q, %s) = %v, want ErrNotFound", tc.account, tc.id, err)
		}
		if err := e.svc.DeleteAs(ctx, tc.account, tc.id); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteAs(%q, %s) = %v, want ErrNotFound", tc.account, tc.id, err)
		}
	}
	stored, err := e.svc.Get(ctx, c.ID)
	if err != nil || stored.Name != c.Name || !VerifySecret(stored, secret) {
		t.Errorf("alice's integration changed: %+v, %v", stored, err)
	}
	if list, _ := e.svc.ListAs(ctx, e.bob.ID); len(list) != 0 {
		t.Errorf("bob lists %d integrations", len(list))
	}
	if list, _ := e.svc.ListAs(ctx, ""); len(list) != 0 {
		t.Errorf("ListAs(\"\") lists %d integrations, want none", len(list))
	}
	if list, _ := e.svc.List(ctx, ""); len(list) != 2 {
		t.Errorf("List(\"\") lists %d integrations, want all 2", len(list))
	}
	if acts := e.actionsFor(t, c.ID); !slices.Equal(acts, []string{"client.created"}) {
		t.Errorf("refused actions were audited: %v", acts)
	}
}

// A presented client secret is checked against the stored hash. (The
// authorization server's client authentication does the same check with
// its own helper in package authz.)
func ExampleVerifySecret() {
	c := store.Client{ID: "gfc_example", SecretHash: HashSecret("gfs_example")}
	fmt.Println(c.SecretHash)
	fmt.Println(VerifySecret(c, "gfs_example"), VerifySecret(c, "gfs_guess"))
	// Output:
	// 288b391c588b744229e311dd2bec2aef7eca4d3945094a8469058e22b35b6189
	// true false
}
