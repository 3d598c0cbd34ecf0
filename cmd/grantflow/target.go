package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
)

// runTarget is `grantflow target list|update` (workflow.go) and
// `grantflow target test --tenant ID --as EMAIL [--org-token]`:
// getOrganization through the tenant's Current Org target with that
// person's User token (or, if they are a tenant_admin, the Org-scoped
// token), over HTTP, as the Test connection button does.
func runTarget(ctx context.Context, c *cli, args []string) error {
	sub, rest, err := subcommand(args, "test", "list", "update")
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		return targetList(ctx, c, rest)
	case "update":
		return targetUpdate(ctx, c, rest)
	}
	var (
		tenantID, email string
		orgToken        bool
		asJSON          bool
	)
	st, svc, _, err := c.automationCommand(ctx, "target "+sub, rest, func(fs *flag.FlagSet) {
		fs.StringVar(&tenantID, "tenant", "", "tenant id (required)")
		fs.StringVar(&email, "as", "", "email of the administrator whose token is used (required)")
		fs.BoolVar(&orgToken, "org-token", false, "use the Org-scoped token (the person must be a tenant_admin)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	if tenantID == "" || email == "" {
		return usagef("--tenant and --as are required")
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
	kind := store.TokenUser
	if orgToken {
		kind = store.TokenOrg
	}
	res, err := svc.TestConnection(ctx, acct, t, kind)
	if err != nil {
		return err
	}
	if asJSON {
		if err := c.printJSON(res); err != nil {
			return err
		}
	} else if res.Status != 0 { // 0: no request was sent (no token) or none answered; the error says which
		fmt.Fprintf(c.stdout, "GET %s -> %d in %s (%s token)\n", res.URL, res.Status, res.Duration, res.Kind)
		if len(res.Body) > 0 {
			fmt.Fprintln(c.stdout, string(res.Body))
		}
	}
	if res.Error != "" {
		return errors.New(res.Error)
	}
	return nil
}
