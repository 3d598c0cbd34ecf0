package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/grantflow/grantflow/internal/workflow"
)

// runWebhook is `grantflow webhook list|show|enable|disable|rotate-secret|delete`.
func runWebhook(ctx context.Context, c *cli, args []string) error {
	sub, rest, err := subcommand(args, "list", "show", "enable", "disable", "rotate-secret", "delete")
	if err != nil {
		return err
	}
	var id, tenantID string
	var asJSON bool
	e, _, err := c.workflowCommand(ctx, "webhook "+sub, rest, false, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		if sub == "list" {
			fs.StringVar(&tenantID, "tenant", "", "tenant id (required)")
		} else {
			fs.StringVar(&id, "id", "", "webhook id (required)")
		}
	})
	if err != nil {
		return err
	}
	defer e.close()
	if sub == "list" {
		if tenantID == "" {
			return usagef("--tenant is required")
		}
		list, err := e.svc.Webhooks(ctx, tenantID, e.actor)
		if err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(list)
		}
		for _, v := range list {
			c.webhookLine(v)
		}
		return nil
	}
	if id == "" {
		return usagef("--id is required")
	}
	var v workflow.WebhookView
	switch sub {
	case "show":
		v, err = e.svc.Webhook(ctx, id, e.actor)
	case "enable", "disable":
		v, err = e.svc.EnableWebhook(ctx, id, e.actor, sub == "enable")
	case "delete":
		if err := e.svc.DeleteWebhook(ctx, id, e.actor); err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(map[string]any{"id": id, "deleted": true})
		}
		fmt.Fprintf(c.stdout, "deleted %s\n", id)
		return nil
	case "rotate-secret":
		var secret string
		v, secret, err = e.svc.RotateWebhookSecret(ctx, id, e.actor)
		if err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(map[string]any{"webhook": v, "secret": secret})
		}
		c.webhookLine(v)
		fmt.Fprintf(c.stdout, "secret: %s\n(shown once: callers send it as Authorization: Bearer SECRET, or sign the body with it in %s: sha256=HMAC)\n",
			secret, workflow.SignatureHeader)
		return nil
	}
	if err != nil {
		return err
	}
	if asJSON {
		return c.printJSON(v)
	}
	c.webhookLine(v)
	for _, r := range v.Rules {
		state := "enabled"
		if r.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(c.stdout, "  rule %s  %s  %s\n", r.ID, state, r.Name)
		for _, w := range r.Workflows {
			fmt.Fprintf(c.stdout, "    starts %s (disabled: %t, %d fixed inputs)\n", w.UniqueName, w.Disabled, len(w.Inputs))
		}
	}
	return nil
}

func (c *cli) webhookLine(v workflow.WebhookView) {
	state := "enabled"
	if !v.Enabled {
		state = "disabled"
	}
	secret := "no secret"
	if v.HasSecret {
		secret = "secret set"
	}
	fmt.Fprintf(c.stdout, "%s  %-8s  %s  POST %s  (%s, %d rules)", v.ID, state, v.Name, v.URL, secret, len(v.Rules))
	if v.Reason != "" {
		fmt.Fprintf(c.stdout, "  %s", v.Reason)
	}
	fmt.Fprintln(c.stdout)
}
