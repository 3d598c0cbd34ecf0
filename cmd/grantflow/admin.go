package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"strings"

	"github.com/grantflow/grantflow/internal/identity"
	"github.com/grantflow/grantflow/internal/store"
)

// commandLineActor names who ran a command, for the audit log: no account
// acted, but the operating system knows the user.
func commandLineActor() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		return "command line"
	}
	return "command line (os user " + name + ")"
}

func runAdmin(ctx context.Context, c *cli, args []string) error {
	sub, rest, err := subcommand(args, "create", "set-password")
	if err != nil {
		return err
	}
	var orgID, email, password, access string
	var passwordStdin, asJSON, changeAccess bool
	st, lg, err := c.storeCommand(ctx, "admin "+sub, rest, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the administrator's email (required)")
		fs.StringVar(&password, "password", "", "the password (visible in the process list; prefer --password-stdin)")
		fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		if sub == "create" {
			fs.StringVar(&orgID, "org", "", "organization id (required)")
			fs.StringVar(&access, "access", "", "full or read-only (required)")
			fs.BoolVar(&changeAccess, "change-access", false, "allow changing the access of someone who is already an administrator of the organization")
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
		res, err := svc.AddAdmin(ctx, identity.AdminParams{OrgID: orgID, Email: email, Password: password,
			Access: store.Access(access), ChangeAccess: changeAccess, Via: commandLineActor()})
		var ace *identity.AccessChangeError
		switch {
		case errors.As(err, &ace):
			return fmt.Errorf("%w; to change it to %s, run again with --change-access", err, ace.To)
		case errors.Is(err, identity.ErrPasswordNotUsed):
			return fmt.Errorf("%w: run again without --password/--password-stdin to add the account to organization %s, or use `grantflow admin set-password`", err, orgID)
		case err != nil:
			return err
		}
		if asJSON {
			return c.printJSON(map[string]any{"id": res.Account.ID, "email": res.Account.Email, "org_id": orgID,
				"access": string(res.Access), "previous_access": string(res.PreviousAccess),
				"account_existed": res.AccountExisted, "changed": res.Changed})
		}
		switch {
		case !res.Changed:
			fmt.Fprintf(c.stdout, "%s already has %s access to organization %s: nothing changed\n", res.Account.Email, res.Access, orgID)
		case res.PreviousAccess != "":
			fmt.Fprintf(c.stdout, "changed the access of %s to organization %s from %s to %s\n", res.Account.Email, orgID, res.PreviousAccess, res.Access)
		case res.AccountExisted:
			fmt.Fprintf(c.stdout, "%s already had an account: gave it %s access to organization %s (its password is unchanged)\n", res.Account.Email, res.Access, orgID)
		default:
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
