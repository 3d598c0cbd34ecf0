package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
)

// automationCommand is the shared setup of the Automation commands: the
// store flags, the server's issuer (targets and redirect URIs derive from
// it) and the Automation flags, then Automation over the store.
func (c *cli) automationCommand(ctx context.Context, name string, args []string, bind func(fs *flag.FlagSet)) (*sqlstore.Store, *automation.Service, *slog.Logger, error) {
	return c.automationCommandRest(ctx, name, args, bind, nil)
}

// automationCommandRest is automationCommand for commands that take
// positional arguments (see parseRest).
func (c *cli) automationCommandRest(ctx context.Context, name string, args []string, bind func(fs *flag.FlagSet), rest *[]string) (*sqlstore.Store, *automation.Service, *slog.Logger, error) {
	cfg := config.Default()
	st, lg, err := c.storeCommandRest(ctx, &cfg, name, args, func(fs *flag.FlagSet) {
		fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "the server's listen address (the default issuer is http://ADDR)")
		fs.StringVar(&cfg.Issuer, "issuer", cfg.Issuer, "the server's public URL, as given to serve")
		cfg.BindAutomation(fs)
		if bind != nil {
			bind(fs)
		}
	}, rest)
	if err != nil {
		return nil, nil, nil, err
	}
	masters, err := automation.MasterKeys(cfg.AutomationKey, automation.KeyDir(cfg, st.SQLiteDir()))
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	svc, err := automation.New(ctx, automation.ConfigFrom(cfg, nil), automation.Deps{
		Store: st, Audit: audit.New(st.Audit(), nil, lg), Log: lg, Masters: masters,
	})
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return st, svc, lg, nil
}

func runTenant(ctx context.Context, c *cli, args []string) error {
	sub, rest, err := subcommand(args, "create", "list", "role")
	if err != nil {
		return err
	}
	if sub == "role" {
		return tenantRole(ctx, c, rest)
	}
	var (
		orgID  string
		meraki bool
		asJSON bool
	)
	st, svc, _, err := c.automationCommand(ctx, "tenant "+sub, rest, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.StringVar(&orgID, "org", "", "organization id")
		if sub == "create" {
			fs.BoolVar(&meraki, "meraki", false, "give the tenant the Meraki - Current Org target")
		}
	})
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		if orgID == "" {
			return usagef("--org is required")
		}
		if _, err := st.Organizations().GetOrganization(ctx, orgID); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("organization %s not found", orgID)
		}
		t, err := svc.EnsureTenant(ctx, orgID, meraki, automation.TriggerTenantCreated, "")
		if err != nil {
			return err
		}
		v, err := svc.View(ctx, t, nil)
		if err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(v)
		}
		printTenant(c, v)
		return nil
	default:
		vs, err := svc.List(ctx, orgID)
		if err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(vs)
		}
		for _, v := range vs {
			printTenant(c, v)
		}
		return nil
	}
}

func printTenant(c *cli, v automation.TenantView) {
	fmt.Fprintf(c.stdout, "tenant %s  organization %s  meraki=%v\n", v.ID, v.OrgID, v.Meraki)
	for _, tg := range v.Targets {
		synced := "never"
		if tg.SyncedAt != nil {
			synced = *tg.SyncedAt
		}
		fmt.Fprintf(c.stdout, "  target %q (%s) host %s  metadata %s  synced %s\n", tg.Name, tg.Type, tg.Host, tg.MetadataVersion, synced)
	}
	for _, tk := range v.Tokens {
		who := "organization"
		if tk.Owner != nil {
			who = *tk.Owner
		}
		line := fmt.Sprintf("  %s token (%s): %s", tk.Kind, who, tk.State)
		if tk.ExpiresAt != nil {
			line += "  access valid until " + *tk.ExpiresAt
		}
		if tk.RefreshedAt != nil {
			line += "  refreshed " + *tk.RefreshedAt
		}
		if tk.Reason != "" {
			line += "  (" + tk.Reason + ")"
		}
		fmt.Fprintln(c.stdout, strings.TrimRight(line, " "))
	}
}
