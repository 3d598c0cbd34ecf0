package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
)

// tenantRole is `grantflow tenant role --tenant ID --email EMAIL --role
// ROLE [--as EMAIL]`: the Roles page's rules (tenant_admin needs full
// access, a tenant keeps one); with --as, that person must be a
// tenant_admin.
func tenantRole(ctx context.Context, c *cli, args []string) error {
	var tenantID, email, role, as string
	st, svc, _, err := c.automationCommand(ctx, "tenant role", args, func(fs *flag.FlagSet) {
		fs.StringVar(&tenantID, "tenant", "", "tenant id (required)")
		fs.StringVar(&email, "email", "", "the administrator whose role is set (required)")
		fs.StringVar(&role, "role", "", "tenant_admin, author, operator or viewer (required)")
		fs.StringVar(&as, "as", "", "email of the tenant_admin acting (default: the operator at the command line)")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	if tenantID == "" || email == "" || role == "" {
		return usagef("--tenant, --email and --role are required")
	}
	t, err := svc.Tenant(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("tenant %s not found", tenantID)
	}
	if err != nil {
		return err
	}
	acct, err := st.Accounts().GetAccountByEmail(ctx, strings.ToLower(email))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no account %s", email)
	}
	if err != nil {
		return err
	}
	actor := ""
	if as != "" {
		a, err := st.Accounts().GetAccountByEmail(ctx, strings.ToLower(as))
		if err != nil {
			return fmt.Errorf("no account %s", as)
		}
		actor = a.ID
	}
	if err := svc.SetRole(ctx, t, actor, acct.ID, store.Role(role)); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s is %s in tenant %s\n", acct.Email, role, t.ID)
	return nil
}
