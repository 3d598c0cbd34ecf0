package main

import (
	"strings"
	"testing"
)

// `grantflow COMMAND -h` of a command with subcommands lists them and exits
// 0; without a subcommand it is still a usage error.
func TestSubcommandHelp(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"-h", "--help", "help"} {
		_, errs, code := runCmd(t, "", "app", h)
		if code != 0 || !strings.Contains(errs, "subcommands: create, list, update, rotate-secret, delete") || !strings.Contains(errs, "grantflow app SUBCOMMAND -h") {
			t.Errorf("app %s: %d %s", h, code, errs)
		}
	}
	if _, errs, code := runCmd(t, "", "tenant", "-h"); code != 0 || !strings.Contains(errs, "create, list, role") {
		t.Errorf("tenant -h: %d %s", code, errs)
	}
	if _, errs, code := runCmd(t, "", "app"); code != 2 || !strings.Contains(errs, "missing subcommand") {
		t.Errorf("app without a subcommand: %d %s", code, errs)
	}
	if _, _, code := runCmd(t, "", "app", "create", "-h"); code != 0 {
		t.Errorf("app create -h: %d", code)
	}
}
