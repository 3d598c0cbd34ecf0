package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/dashboard"
	"github.com/grantflow/grantflow/internal/store"
)

func runAPIKey(ctx context.Context, c *cli, args []string) error {
	sub, rest, err := subcommand(args, "create", "list", "revoke")
	if err != nil {
		return err
	}
	var email, id, name string
	var asJSON bool
	st, lg, err := c.storeCommand(ctx, "apikey "+sub, rest, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "admin", "", "email of the administrator the key acts as (required)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		if sub == "create" {
			fs.StringVar(&name, "name", "", "what the key is for, shown on the API keys page (at most 100 characters)")
		}
		if sub == "revoke" {
			fs.StringVar(&id, "id", "", "id of the key to revoke (from apikey list)")
		}
	})
	if err != nil {
		return err
	}
	defer st.Close()
	if email == "" {
		return usagef("--admin is required")
	}
	acc, err := st.Accounts().GetAccountByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("--admin %s: no such account", email)
	} else if err != nil {
		return err
	}
	keys := dashboard.NewAPIKeys(st, audit.New(st.Audit(), nil, lg), nil, nil)
	switch sub {
	case "create":
		raw, _, err := keys.CreateNamed(ctx, acc.ID, name)
		if errors.Is(err, dashboard.ErrInvalidAPIKeyName) {
			return usagef("--name: %v", err)
		}
		if errors.Is(err, dashboard.ErrTooManyAPIKeys) {
			return fmt.Errorf("%s already has %d API keys (Meraki's limit): revoke one first", acc.Email, dashboard.MaxAPIKeys)
		} else if err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(map[string]string{"api_key": raw})
		}
		fmt.Fprintf(c.stdout, "api_key: %s\n\nThe key is shown only now. It acts with %s's access.\n", raw, acc.Email)
		return nil
	case "list":
		list, err := keys.List(ctx, acc.ID)
		if err != nil {
			return err
		}
		out := make([]map[string]string, 0, len(list))
		for _, k := range list {
			used := ""
			if !k.LastUsedAt.IsZero() {
				used = k.LastUsedAt.Format(time.RFC3339)
			}
			out = append(out, map[string]string{"id": k.ID, "name": k.Name, "last4": k.Last4, "created_at": k.CreatedAt.Format(time.RFC3339), "last_used_at": used})
		}
		if asJSON {
			return c.printJSON(out)
		}
		for _, k := range out {
			used := k["last_used_at"]
			if used == "" {
				used = "never used"
			}
			fmt.Fprintf(c.stdout, "%s\t…%s\t%s\t%s\t%s\n", k["id"], k["last4"], k["created_at"], used, k["name"])
		}
		return nil
	default:
		if id == "" {
			return usagef("--id is required")
		}
		if err := keys.Revoke(ctx, acc.ID, id); err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(map[string]string{"id": id, "status": "revoked"})
		}
		fmt.Fprintf(c.stdout, "revoked API key %s\n", id)
		return nil
	}
}
