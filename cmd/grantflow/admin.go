package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
)

func runAdmin(ctx context.Context, c *cli, args []string) error {
	sub, rest, err := subcommand(args, "create", "set-password")
	if err != nil {
		return err
	}
	var orgID, email, password, access string
	var passwordStdin, asJSON bool
	st, lg, err := c.storeCommand(ctx, "admin "+sub, rest, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the administrator's email (required)")
		fs.StringVar(&password, "password", "", "the password (visible in the process list; prefer --password-stdin)")
		fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		if sub == "create" {
			fs.StringVar(&orgID, "org", "", "organization id (required)")
			fs.StringVar(&access, "access", "", "full or read-only (required)")
		}
	})
	if err != nil {
		return err
	}
	defer st.Close()
	var problems []string
	if email == "" {
		problems = append(problems, "--email is required")
	}
	if password != "" && passwordStdin {
		problems = append(problems, "give --password or --password-stdin, not both")
	}
	if sub == "create" {
		if orgID == "" {
			problems = append(problems, "--org is required")
		}
		if !store.Access(access).Valid() {
			problems = append(problems, "--access must be full or read-only")
		}
	}
	if len(problems) > 0 {
		return usageError{strings.Join(problems, "; ")}
	}
	if passwordStdin {
		line, err := bufio.NewReader(c.stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	svc := identityService(st, lg)
	switch sub {
	case "create":
		res, err := svc.CreateAdmin(ctx, orgID, email, password, store.Access(access))
		if err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(map[string]any{"id": res.Account.ID, "email": res.Account.Email, "org_id": orgID,
				"access": string(res.Access), "account_existed": res.AccountExisted})
		}
		if res.AccountExisted {
			fmt.Fprintf(c.stdout, "%s already had an account: gave it %s access to organization %s (password unchanged)\n", res.Account.Email, res.Access, orgID)
		} else {
			fmt.Fprintf(c.stdout, "created %s with %s access to organization %s\n", res.Account.Email, res.Access, orgID)
		}
		return nil
	default:
		if password == "" {
			return usagef("--password or --password-stdin is required")
		}
		if err := svc.SetPassword(ctx, email, password); err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(map[string]string{"email": strings.ToLower(email), "status": "password changed"})
		}
		fmt.Fprintf(c.stdout, "password changed for %s; its sessions were ended\n", strings.ToLower(email))
		return nil
	}
}
