package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/automation/vault"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/registry"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/webhooks"
)

// appJSON is how the CLI shows an integration; the secret appears only in
// the answer of create and rotate-secret.
type appJSON struct {
	ClientID       string   `json:"client_id"`
	ClientSecret   string   `json:"client_secret,omitempty"`
	Name           string   `json:"name"`
	Owner          string   `json:"owner,omitempty"`
	RedirectURIs   []string `json:"redirect_uris"`
	Scopes         []string `json:"scopes"`
	ResourceServer bool     `json:"resource_server"`
	FirstParty     bool     `json:"first_party,omitempty"`
	RefreshGrace   string   `json:"refresh_grace,omitempty"`
	CreatedAt      string   `json:"created_at"`
	// WebhookSecret appears only in the answer of the update that made it.
	WebhookURL    string `json:"webhook_url,omitempty"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

func toAppJSON(c store.Client, secret, ownerEmail string) appJSON {
	a := appJSON{ClientID: c.ID, ClientSecret: secret, Name: c.Name, Owner: ownerEmail, RedirectURIs: c.RedirectURIs,
		Scopes: c.Scopes, ResourceServer: c.ResourceServer, FirstParty: c.FirstParty, CreatedAt: c.CreatedAt.Format(time.RFC3339)}
	if c.RefreshGrace > 0 {
		a.RefreshGrace = c.RefreshGrace.String()
	}
	return a
}

func runApp(ctx context.Context, c *cli, args []string) error {
	sub, rest, err := subcommand(args, "create", "list", "update", "rotate-secret", "delete")
	if err != nil {
		return err
	}
	var (
		id, name, owner string
		redirects       stringList
		scopes          stringList
		resourceServer  bool
		grace           time.Duration
		asJSON          bool
		webhookURL      string
		rotateWebhook   bool
	)
	var flags *flag.FlagSet
	cfg := config.Default()
	st, lg, err := c.storeCommandWith(ctx, &cfg, "app "+sub, rest, func(fs *flag.FlagSet) {
		flags = fs
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		if sub != "create" && sub != "list" {
			fs.StringVar(&id, "id", "", "client_id of the integration (required)")
		}
		if sub == "create" || sub == "update" {
			fs.StringVar(&name, "name", "", "integration name")
			fs.Var(&redirects, "redirect-uri", "redirect URI, exact match (repeatable)")
			fs.Var(&scopes, "scope", `space-separated Meraki scopes, e.g. "dashboard:general:config:read" (repeatable)`)
			fs.BoolVar(&resourceServer, "resource-server", false, "may introspect any token")
			fs.DurationVar(&grace, "refresh-grace", 0, "refresh-token reuse grace window (0, as Meraki; at most 10m)")
		}
		if sub == "update" {
			fs.StringVar(&webhookURL, "webhook-url", "", `where events go (https, or http on loopback); "" removes the webhook; the first one prints the signing secret`)
			fs.BoolVar(&rotateWebhook, "rotate-webhook-secret", false, "give the webhook a new signing secret (printed once)")
			cfg.BindAutomation(fs) // the key that seals webhook secrets
		}
		if sub == "create" || sub == "list" {
			fs.StringVar(&owner, "owner", "", "email of the owning account")
		}
	})
	if err != nil {
		return err
	}
	defer st.Close()
	svc := registry.NewService(st.Clients(), audit.New(st.Audit(), nil, lg), nil, lg)

	ownerID, ownerEmail := "", ""
	if owner != "" {
		acc, err := st.Accounts().GetAccountByEmail(ctx, strings.ToLower(owner))
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("--owner %s: no such account (create it with `grantflow admin create`)", owner)
		} else if err != nil {
			return err
		}
		ownerID, ownerEmail = acc.ID, acc.Email
	}
	if sub != "create" && sub != "list" && id == "" {
		return usagef("--id is required")
	}

	switch sub {
	case "create":
		cl, secret, err := svc.Create(ctx, registry.CreateParams{OwnerAccountID: ownerID, Name: name, RedirectURIs: redirects,
			Scopes: scopes, ResourceServer: resourceServer, RefreshGrace: grace})
		if err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(toAppJSON(cl, secret, ownerEmail))
		}
		fmt.Fprintf(c.stdout, "client_id:     %s\nclient_secret: %s\n\nThe secret is shown only now; store it safely.\n", cl.ID, secret)
		return nil
	case "list":
		list, err := svc.List(ctx, ownerID)
		if err != nil {
			return err
		}
		out := make([]appJSON, 0, len(list))
		for _, cl := range list {
			out = append(out, toAppJSON(cl, "", emailOf(ctx, st.Accounts(), cl.OwnerAccountID)))
		}
		if asJSON {
			return c.printJSON(out)
		}
		for _, a := range out {
			fmt.Fprintf(c.stdout, "%s\t%s\t%s\n", a.ClientID, a.Name, strings.Join(a.Scopes, " "))
		}
		return nil
	case "update":
		var p registry.UpdateParams
		if name != "" {
			p.Name = &name
		}
		if len(redirects) > 0 {
			r := []string(redirects)
			p.RedirectURIs = &r
		}
		if len(scopes) > 0 {
			s := []string(scopes)
			p.Scopes = &s
		}
		setWebhook := false
		flags.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "resource-server":
				p.ResourceServer = &resourceServer
			case "refresh-grace":
				p.RefreshGrace = &grace
			case "webhook-url":
				setWebhook = true
			}
		})
		if setWebhook && webhookURL != "" {
			if err := webhooks.CheckURL(webhookURL); err != nil {
				return usagef("--webhook-url: %v", err)
			}
		}
		cl, err := svc.Update(ctx, id, p)
		if err != nil {
			return err
		}
		out := toAppJSON(cl, "", emailOf(ctx, st.Accounts(), cl.OwnerAccountID))
		if setWebhook || rotateWebhook {
			if err := withWebhooks(ctx, cfg, st, svc, lg); err != nil {
				return err
			}
			if setWebhook {
				if out.WebhookSecret, err = svc.SetWebhookURL(ctx, id, webhookURL); err != nil {
					return err
				}
			}
			if rotateWebhook {
				if out.WebhookSecret, err = svc.RotateWebhookSecret(ctx, id); err != nil {
					return err
				}
			}
			status, err := svc.WebhookStatus(ctx, id)
			if err != nil {
				return err
			}
			out.WebhookURL = status.URL
		}
		if asJSON {
			return c.printJSON(out)
		}
		fmt.Fprintf(c.stdout, "updated %s\n", cl.ID)
		if out.WebhookSecret != "" {
			fmt.Fprintf(c.stdout, "webhook_secret: %s\n\nThe signing secret is shown only now; store it safely.\n", out.WebhookSecret)
		}
		return nil
	case "rotate-secret":
		cl, secret, err := svc.RotateSecret(ctx, id)
		if err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(map[string]string{"client_id": cl.ID, "client_secret": secret})
		}
		fmt.Fprintf(c.stdout, "client_id:     %s\nclient_secret: %s\n\nThe old secret no longer works. The new one is shown only now.\n", cl.ID, secret)
		return nil
	default:
		if err := svc.Delete(ctx, id); err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(map[string]string{"client_id": id, "status": "deleted"})
		}
		fmt.Fprintf(c.stdout, "deleted %s and revoked all its tokens\n", id)
		return nil
	}
}

// emailOf shows an integration's owner ("" for none or a deleted account).
func emailOf(ctx context.Context, accounts store.Accounts, id string) string {
	if id == "" {
		return ""
	}
	acc, err := accounts.GetAccount(ctx, id)
	if err != nil {
		return ""
	}
	return acc.Email
}

// withWebhooks gives svc the webhook service, its secrets sealed by
// Automation's vault under the same master key the server uses. Events
// are delivered by a running server.
func withWebhooks(ctx context.Context, cfg config.Config, st *sqlstore.Store, svc *registry.Service, lg *slog.Logger) error {
	masters, err := automation.MasterKeys(cfg.AutomationKey, automation.KeyDir(cfg, st.SQLiteDir()))
	if err != nil {
		return err
	}
	v, err := vault.New(ctx, st.Automation(), masters, nil)
	if err != nil {
		return err
	}
	svc.SetWebhooks(webhooks.New(st.ClientWebhooks(), v, webhooks.Config{}, audit.New(st.Audit(), nil, lg), lg))
	return nil
}
