package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README walkthrough's `app create` runs as written, and the integration
// it registers is the demo administrator's, so "My integrations" lists it.
func TestREADMEAppCreate(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)go run \./cmd/grantflow (app create .*?)\n\s*` + "```").FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("no app create in the README")
	}
	args := shellWords(strings.ReplaceAll(m[1], "\\\n", " "))
	dir := t.TempDir()
	d := "--data-dir=" + dir
	out, errs, code := runCmd(t, "", "org", "create", d, "--name", "Demo Organization", "--json")
	var org struct{ ID string }
	if code != 0 {
		t.Fatalf("org create: %s", errs)
	}
	mustJSON(t, out, &org)
	if _, errs, code := runCmd(t, "", "admin", "create", d, "--org", org.ID, "--email", "admin@example.com", "--password", "a long enough passphrase", "--access", "full"); code != 0 {
		t.Fatalf("admin create: %s", errs)
	}
	out, errs, code = runCmd(t, "", append(args, d)...)
	var app struct{ Owner string }
	if code != 0 {
		t.Fatalf("README's %q: %d %s", args, code, errs)
	}
	mustJSON(t, out, &app)
	if app.Owner != "admin@example.com" {
		t.Errorf("README's app create registers an integration owned by %q; My integrations would be empty", app.Owner)
	}
}

// shellWords splits a command line on spaces, keeping double-quoted words.
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, in := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, in = !quoted, true
		case (r == ' ' || r == '\t' || r == '\n') && !quoted:
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}
