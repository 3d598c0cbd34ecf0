package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/identity"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
)

func runOrg(ctx context.Context, c *cli, args []string) error {
	sub, rest, err := subcommand(args, "create", "list")
	if err != nil {
		return err
	}
	var name string
	var asJSON bool
	st, lg, err := c.storeCommand(ctx, "org "+sub, rest, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		if sub == "create" {
			fs.StringVar(&name, "name", "", "organization name (required)")
		}
	})
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		if name == "" {
			return usagef("--name is required")
		}
		svc := identityService(st, lg)
		org, err := svc.CreateOrganization(ctx, name)
		if err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(map[string]string{"id": org.ID, "name": org.Name})
		}
		fmt.Fprintf(c.stdout, "created organization %s (%s)\n", org.ID, org.Name)
		return nil
	default:
		orgs, err := st.Organizations().ListOrganizations(ctx)
		if err != nil {
			return err
		}
		out := make([]map[string]string, 0, len(orgs))
		for _, o := range orgs {
			out = append(out, map[string]string{"id": o.ID, "name": o.Name})
		}
		if asJSON {
			return c.printJSON(out)
		}
		for _, o := range orgs {
			fmt.Fprintf(c.stdout, "%s\t%s\n", o.ID, o.Name)
		}
		return nil
	}
}

// identityService is the account service the CLI acts through, so its
// actions are validated and audited exactly as the pages' are.
func identityService(st *sqlstore.Store, lg *slog.Logger) *identity.Service {
	return identity.NewService(st, audit.New(st.Audit(), nil, lg), lg, nil)
}
