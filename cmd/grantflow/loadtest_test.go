package main

import (
	"os"
	"strings"
	"testing"
)

// loadtest refuses a store that already has organizations (a live data
// directory), and by default uses a temporary one, never ./grantflow-data.
func TestLoadtestStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := "--data-dir=" + dir
	if _, errs, code := runCmd(t, "", "org", "create", d, "--name", "Live"); code != 0 {
		t.Fatalf("org create: %d %s", code, errs)
	}
	_, errs, code := runCmd(t, "", "loadtest", d, "--ops", "api", "--families", "1", "--concurrency", "1", "--duration", "50ms")
	if code != 1 || !strings.Contains(errs, "is not empty (1 organizations)") {
		t.Fatalf("loadtest on a live store: %d %s", code, errs)
	}
	out, errs, code := runCmd(t, "", "loadtest", "--ops", "api", "--families", "1", "--concurrency", "1", "--duration", "50ms")
	if code != 0 || !strings.Contains(out, "/api/v1") {
		t.Fatalf("loadtest on its temporary store: %d %s %s", code, out, errs)
	}
	if _, err := os.Stat("grantflow-data"); err == nil {
		t.Error("loadtest created ./grantflow-data")
	}
}
