package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
)

// grantflow runs one command and returns its exit status and output.
func grantflow(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := run(context.Background(), c, args)
	return code, out.String(), errb.String()
}

// The Automation commands against the store a running server uses: tenant
// create and list (PRODUCT.md's JSON), target test with a person's token
// and the org token, keys rotate while the server keeps working.
func TestAutomationCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	store := []string{"--data-dir", dir}
	withIssuer := append([]string{"--issuer", issuer}, store...)

	code, out, errs := grantflow(t, append([]string{"org", "create", "--name", "Acme", "--json"}, store...)...)
	var org struct{ ID string }
	if code != 0 || json.Unmarshal([]byte(out), &org) != nil {
		t.Fatalf("org create: %d %s %s", code, out, errs)
	}
	if code, _, errs := grantflow(t, append([]string{"admin", "create", "--org", org.ID, "--email", "a@example.com", "--password", "correct horse battery staple 42", "--access", "full"}, store...)...); code != 0 {
		t.Fatalf("admin create: %s", errs)
	}
	if code, _, _ := grantflow(t, append([]string{"tenant", "create", "--meraki"}, store...)...); code != 2 {
		t.Fatalf("tenant create without --org: exit %d", code)
	}
	code, out, errs = grantflow(t, append([]string{"tenant", "create", "--org", org.ID, "--meraki", "--json"}, withIssuer...)...)
	var created automation.TenantView
	if code != 0 || json.Unmarshal([]byte(out), &created) != nil {
		t.Fatalf("tenant create: %d %s %s", code, out, errs)
	}
	if created.OrgID != org.ID || !created.Meraki || len(created.Targets) != 1 || created.Targets[0].Name != "Meraki - Current Org" ||
		created.Targets[0].Type != "meraki.endpoint" || created.Targets[0].Host != "127.0.0.1" || len(created.Tokens) != 1 || created.Tokens[0].State != "missing" {
		t.Fatalf("tenant create printed %s", out)
	}
	// Exactly PRODUCT.md's fields.
	var raw []map[string]any
	code, out, _ = grantflow(t, append([]string{"tenant", "list", "--org", org.ID, "--json"}, store...)...)
	if code != 0 || json.Unmarshal([]byte(out), &raw) != nil || len(raw) != 1 {
		t.Fatalf("tenant list: %s", out)
	}
	if keys := sortedKeys(raw[0]); keys != "id meraki org_id targets tokens" {
		t.Errorf("tenant fields: %s", keys)
	}
	if keys := sortedKeys(raw[0]["targets"].([]any)[0].(map[string]any)); keys != "host id metadata_version name synced_at type" {
		t.Errorf("target fields: %s", keys)
	}
	if keys := sortedKeys(raw[0]["tokens"].([]any)[0].(map[string]any)); keys != "expires_at kind owner reason refreshed_at state" {
		t.Errorf("token fields: %s", keys)
	}

	// Before any token exists, target test says so, without a made-up
	// "GET ... -> 0 in 0s" line for a request it never sent.
	code, out, errs = grantflow(t, append([]string{"target", "test", "--tenant", created.ID, "--as", "a@example.com"}, withIssuer...)...)
	if code != 1 || strings.Contains(out, "-> 0") || !strings.Contains(errs, "does not exist yet") {
		t.Fatalf("target test without a token: %d %q %s", code, out, errs)
	}

	// A server on the same data directory; the admin's first visit.
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(dir, "grantflow.db"), lg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()
	cfg.DataDir, cfg.Issuer = dir, issuer
	srv, err := server.New(context.Background(), cfg, st, lg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	defer ts.Close()
	visitAutomation(t, issuer, "a@example.com")

	tenant := created.ID
	for _, extra := range [][]string{nil, {"--org-token"}} {
		args := append(append([]string{"target", "test", "--tenant", tenant, "--as", "a@example.com", "--json"}, extra...), withIssuer...)
		code, out, errs := grantflow(t, args...)
		var res automation.TestResult
		var o struct{ Name string }
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Status != 200 || json.Unmarshal(res.Body, &o) != nil || o.Name != "Acme" {
			t.Fatalf("target test %v: %d %s %s", extra, code, out, errs)
		}
	}
	if code, _, errs := grantflow(t, append([]string{"target", "test", "--tenant", tenant, "--as", "nobody@example.com"}, withIssuer...)...); code != 1 || !strings.Contains(errs, "no account") {
		t.Fatalf("target test as nobody: %d %s", code, errs)
	}

	code, out, errs = grantflow(t, append([]string{"keys", "rotate", "--settle", "0s", "--json"}, store...)...)
	var rot automation.RotateResult
	if code != 0 || json.Unmarshal([]byte(out), &rot) != nil || rot.Resealed < 3 || len(rot.DeletedKeys) != 1 {
		t.Fatalf("keys rotate: %d %s %s", code, out, errs)
	}
	// The running server and the CLI both go on with the new key.
	if code, out, errs := grantflow(t, append([]string{"target", "test", "--tenant", tenant, "--as", "a@example.com", "--org-token"}, withIssuer...)...); code != 0 {
		t.Fatalf("target test after rotation: %s %s", out, errs)
	}
	visitAutomation(t, issuer, "a@example.com")
	code, out, _ = grantflow(t, append([]string{"tenant", "list", "--json"}, store...)...)
	if code != 0 || strings.Count(out, `"state": "valid"`) != 2 {
		t.Fatalf("tenant list after rotation: %s", out)
	}
}

func sortedKeys(m map[string]any) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return strings.Join(keys, " ")
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// visitAutomation logs in and opens /automation, following the silent
// token flow.
func visitAutomation(t *testing.T, base, email string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	page := func(method, path string, form url.Values) string {
		var resp *http.Response
		var err error
		if method == http.MethodGet {
			resp, err = c.Get(base + path)
		} else {
			resp, err = c.PostForm(base+path, form)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", resp.Request.URL, resp.StatusCode, b)
		}
		return string(b)
	}
	login := page(http.MethodGet, "/login", nil)
	m := csrfField.FindStringSubmatch(login)
	if m == nil {
		t.Fatal("no CSRF token on the login page")
	}
	page(http.MethodPost, "/login", url.Values{"email": {email}, "password": {"correct horse battery staple 42"}, "csrf_token": {html.UnescapeString(m[1])}})
	if p := page(http.MethodGet, "/automation", nil); !strings.Contains(p, "Meraki - Current Org") {
		t.Fatalf("automation page:\n%s", p)
	}
}
