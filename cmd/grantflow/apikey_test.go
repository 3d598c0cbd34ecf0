package main

import (
	"strings"
	"testing"
)

func TestAPIKeyCreateWithName(t *testing.T) {
	t.Parallel()
	d := "--data-dir=" + t.TempDir()
	out, errs, code := runCmd(t, "", "org", "create", d, "--name", "Acme", "--json")
	if code != 0 {
		t.Fatalf("org create: %d %s", code, errs)
	}
	var org struct{ ID string }
	mustJSON(t, out, &org)
	if _, errs, code := runCmd(t, "a long enough passphrase\n", "admin", "create", d, "--org", org.ID, "--email", "dev@example.com", "--password-stdin", "--access", "full"); code != 0 {
		t.Fatalf("admin create: %d %s", code, errs)
	}
	if _, errs, code := runCmd(t, "", "apikey", "create", d, "--admin", "dev@example.com", "--name", strings.Repeat("x", 101)); code != 2 || !strings.Contains(errs, "--name") {
		t.Errorf("overlong name: %d %s", code, errs)
	}
	if _, errs, code := runCmd(t, "", "apikey", "create", d, "--admin", "dev@example.com", "--name", "CI deploys"); code != 0 {
		t.Fatalf("apikey create --name: %d %s", code, errs)
	}
	out, _, _ = runCmd(t, "", "apikey", "list", d, "--admin", "dev@example.com", "--json")
	var list []map[string]string
	mustJSON(t, out, &list)
	if len(list) != 1 || list[0]["name"] != "CI deploys" || list[0]["last_used_at"] != "" {
		t.Fatalf("apikey list = %v", list)
	}
	out, _, _ = runCmd(t, "", "apikey", "list", d, "--admin", "dev@example.com")
	if !strings.Contains(out, "never used\tCI deploys") {
		t.Errorf("apikey list:\n%s", out)
	}
}
