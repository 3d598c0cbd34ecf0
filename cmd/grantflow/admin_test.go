package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
)

// `admin create` changes only what it is told to: an existing
// administrator's access needs --change-access and says what it changed, a
// password for an existing account is refused rather than ignored, and the
// audit event names the command line as the actor.
func TestAdminCreateExisting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := "--data-dir=" + dir
	var org struct{ ID string }
	out, errs, code := runCmd(t, "", "org", "create", d, "--name", "Acme", "--json")
	if code != 0 {
		t.Fatalf("org create: %d %s", code, errs)
	}
	mustJSON(t, out, &org)
	const pw = "a long enough passphrase"
	if _, errs, code := runCmd(t, "", "admin", "create", d, "--org", org.ID, "--email", "ro@example.com", "--password", pw, "--access", "read-only"); code != 0 {
		t.Fatalf("admin create: %d %s", code, errs)
	}

	access := func() store.Access {
		t.Helper()
		st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(dir, "grantflow.db"), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		a, err := st.Accounts().GetAccountByEmail(context.Background(), "ro@example.com")
		if err != nil {
			t.Fatal(err)
		}
		m, err := st.Accounts().GetMembership(context.Background(), org.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return m.Access
	}

	// Raising the access without the flag is refused, and says how.
	_, errs, code = runCmd(t, "", "admin", "create", d, "--org", org.ID, "--email", "ro@example.com", "--access", "full")
	if code == 0 || !strings.Contains(errs, "already has read-only access") || !strings.Contains(errs, "--change-access") {
		t.Fatalf("access raised without --change-access: %d %s", code, errs)
	}
	// A password for an existing account is refused, not ignored.
	_, errs, code = runCmd(t, "", "admin", "create", d, "--org", org.ID, "--email", "ro@example.com", "--password", "another long passphrase", "--access", "full", "--change-access")
	if code == 0 || !strings.Contains(errs, "password is not changed") || !strings.Contains(errs, "set-password") {
		t.Fatalf("password for an existing account: %d %s", code, errs)
	}
	if a := access(); a != store.AccessReadOnly {
		t.Fatalf("access is %s after refused commands", a)
	}

	out, errs, code = runCmd(t, "", "admin", "create", d, "--org", org.ID, "--email", "ro@example.com", "--access", "full", "--change-access")
	if code != 0 || !strings.Contains(out, "from read-only to full") {
		t.Fatalf("--change-access: %d %q %s", code, out, errs)
	}
	if a := access(); a != store.AccessFull {
		t.Fatalf("access is %s after --change-access", a)
	}
	out, _, code = runCmd(t, "", "admin", "create", d, "--org", org.ID, "--email", "ro@example.com", "--access", "full")
	if code != 0 || !strings.Contains(out, "nothing changed") {
		t.Fatalf("same access again: %d %q", code, out)
	}

	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(dir, "grantflow.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Audit().ListAudit(context.Background(), store.AuditFilter{OrgID: org.ID})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range evs {
		if ev.Action == "admin.access_changed" {
			found = true
			if ev.Details["previous_access"] != "read-only" || ev.Details["access"] != "full" || !strings.HasPrefix(ev.Details["via"], "command line") {
				t.Errorf("access_changed event %+v", ev)
			}
		}
	}
	if !found {
		t.Error("no admin.access_changed event")
	}
}
