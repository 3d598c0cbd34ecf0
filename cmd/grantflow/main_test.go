package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runCmd runs the CLI in-process with its own streams.
func runCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = run(context.Background(), c, args)
	return out.String(), errb.String(), code
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
}

func TestAdministrationCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := "--data-dir=" + dir

	out, errs, code := runCmd(t, "", "org", "create", d, "--name", "Acme", "--json")
	if code != 0 {
		t.Fatalf("org create: %d %s", code, errs)
	}
	var org struct{ ID string }
	mustJSON(t, out, &org)
	if !regexp.MustCompile(`^[1-9][0-9]{5,}$`).MatchString(org.ID) {
		t.Fatalf("org id %q is not Meraki-like", org.ID)
	}
	out, _, _ = runCmd(t, "", "org", "list", d, "--json")
	var orgs []map[string]string
	mustJSON(t, out, &orgs)
	if len(orgs) != 1 || orgs[0]["id"] != org.ID || orgs[0]["name"] != "Acme" {
		t.Fatalf("org list = %v", orgs)
	}

	if _, errs, code := runCmd(t, "short\n", "admin", "create", d, "--org", org.ID, "--email", "dev@example.com", "--password-stdin", "--access", "full"); code == 0 || !strings.Contains(errs, "12") {
		t.Fatalf("weak password accepted: %d %s", code, errs)
	}
	if _, errs, code := runCmd(t, "a long enough passphrase\n", "admin", "create", d, "--org", org.ID, "--email", "Dev@Example.com", "--password-stdin", "--access", "full"); code != 0 {
		t.Fatalf("admin create: %d %s", code, errs)
	}
	if _, errs, code := runCmd(t, "", "admin", "create", d, "--org", org.ID, "--email", "x@example.com", "--access", "owner"); code != 2 || !strings.Contains(errs, "--access") {
		t.Fatalf("bad --access: %d %s", code, errs)
	}

	out, errs, code = runCmd(t, "", "app", "create", d, "--name", "Insights", "--redirect-uri", "https://app.example/cb",
		"--redirect-uri", "http://127.0.0.1:8000/cb", "--scope", "dashboard:general:config:read switch:config:read", "--owner", "dev@example.com", "--json")
	if code != 0 {
		t.Fatalf("app create: %d %s", code, errs)
	}
	var app struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		Owner        string   `json:"owner"`
		Scopes       []string `json:"scopes"`
	}
	mustJSON(t, out, &app)
	urlSafe := regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	if !urlSafe.MatchString(app.ClientID) || !urlSafe.MatchString(app.ClientSecret) || len(app.ClientSecret) < 43 || app.Owner != "dev@example.com" || len(app.Scopes) != 2 {
		t.Fatalf("app create = %+v", app)
	}
	if _, errs, code := runCmd(t, "", "app", "create", d, "--name", "Bad", "--redirect-uri", "http://evil.example/cb", "--scope", "nope:read"); code == 0 || !strings.Contains(errs, "https") || !strings.Contains(errs, "nope:read") {
		t.Fatalf("invalid app accepted or problems not all reported: %d %s", code, errs)
	}

	out, _, _ = runCmd(t, "", "app", "list", d, "--json")
	if strings.Contains(out, app.ClientSecret) || !strings.Contains(out, app.ClientID) {
		t.Fatalf("app list shows the secret or misses the app:\n%s", out)
	}
	if _, errs, code := runCmd(t, "", "app", "update", d, "--id", app.ClientID, "--resource-server", "--json"); code != 0 {
		t.Fatalf("app update: %d %s", code, errs)
	}
	out, _, _ = runCmd(t, "", "app", "rotate-secret", d, "--id", app.ClientID, "--json")
	var rotated map[string]string
	mustJSON(t, out, &rotated)
	if rotated["client_secret"] == "" || rotated["client_secret"] == app.ClientSecret {
		t.Fatalf("rotate-secret = %v", rotated)
	}

	out, errs, code = runCmd(t, "", "apikey", "create", d, "--admin", "dev@example.com", "--json")
	if code != 0 {
		t.Fatalf("apikey create: %d %s", code, errs)
	}
	var key map[string]string
	mustJSON(t, out, &key)
	if len(key["api_key"]) != 40 {
		t.Fatalf("api key = %q", key["api_key"])
	}
	runCmd(t, "", "apikey", "create", d, "--admin", "dev@example.com")
	if _, errs, code := runCmd(t, "", "apikey", "create", d, "--admin", "dev@example.com"); code == 0 || !strings.Contains(errs, "2 API keys") {
		t.Fatalf("third key: %d %s", code, errs)
	}

	out, errs, code = runCmd(t, "", "seed", d, "--org", org.ID, "--networks", "40", "--devices", "200", "--json")
	if code != 0 || !strings.Contains(out, `"networks": 40`) {
		t.Fatalf("seed: %d %s %s", code, out, errs)
	}
	if _, _, code := runCmd(t, "", "app", "delete", d, "--id", app.ClientID); code != 0 {
		t.Fatalf("app delete: %d", code)
	}
	if _, errs, code := runCmd(t, "", "app", "delete", d, "--id", app.ClientID); code != 1 || !strings.Contains(errs, "not found") {
		t.Fatalf("delete twice: %d %s", code, errs)
	}
	if _, _, code := runCmd(t, "", "frobnicate"); code != 2 {
		t.Fatalf("unknown command exit = %d", code)
	}
	if _, errs, code := runCmd(t, "", "org", "create", d, "extra"); code != 2 || !strings.Contains(errs, "unexpected argument") {
		t.Fatalf("positional argument: %d %s", code, errs)
	}
}

// TestServeFirstStart: a fresh data dir gets the demo organization, and the
// login details go to a 0600 file (stdout is not a terminal here) and are
// never logged; the server answers and stops on cancel.
func TestServeFirstStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var out, errb safeBuffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, c, []string{"serve", "--data-dir", dir, "--addr", addr}) }()
	waitReady(t, addr, &errb)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, errb.String())
	}
	path := filepath.Join(dir, "initial-admin.txt")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("initial-admin.txt mode %v", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	m := regexp.MustCompile(`Password:\s+(\S+)`).FindStringSubmatch(string(b))
	if m == nil || !strings.Contains(string(b), "admin@example.com") {
		t.Fatalf("initial-admin.txt:\n%s", b)
	}
	if strings.Contains(out.String()+errb.String(), m[1]) {
		t.Fatal("the demo password was printed to a non-terminal stdout or logged")
	}
	if !strings.Contains(out.String(), path) {
		t.Fatalf("stdout does not name the file: %q", out.String())
	}
	// A second start finds the store populated and creates nothing.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- run(ctx2, c, []string{"serve", "--data-dir", dir, "--addr", addr}) }()
	waitReady(t, addr, &errb) // past the point where a demo would be made
	cancel2()
	if code := <-done; code != 0 {
		t.Fatalf("second serve exit %d:\n%s", code, errb.String())
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("second start wrote new login details")
	}
}

// waitReady polls /readyz until the server at addr answers 200.
func waitReady(t *testing.T, addr string, stderr *safeBuffer) {
	t.Helper()
	for range 200 {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server at %s not ready; stderr:\n%s", addr, stderr.String())
}
