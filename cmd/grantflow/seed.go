package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/grantflow/grantflow/internal/dashboard"
)

func runSeed(ctx context.Context, c *cli, args []string) error {
	var orgID string
	var networks, devices int
	var asJSON bool
	st, _, err := c.storeCommand(ctx, "seed", args, func(fs *flag.FlagSet) {
		fs.StringVar(&orgID, "org", "", "organization id (required)")
		fs.IntVar(&networks, "networks", 0, "networks to create (default: the demo estate's 6)")
		fs.IntVar(&devices, "devices", 0, "devices to create (default: the demo estate's 36)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	if orgID == "" {
		return usagef("--org is required")
	}
	if _, err := st.Organizations().GetOrganization(ctx, orgID); err != nil {
		return fmt.Errorf("--org %s: %w", orgID, err)
	}
	start := time.Now()
	res, err := dashboard.Seed(ctx, st, dashboard.SeedParams{OrgID: orgID, Networks: networks, Devices: devices})
	if err != nil {
		return err
	}
	if asJSON {
		return c.printJSON(map[string]any{"org_id": orgID, "networks": res.Networks, "devices": res.Devices})
	}
	fmt.Fprintf(c.stdout, "seeded organization %s with %d networks and %d devices in %s\n", orgID, res.Networks, res.Devices, time.Since(start).Round(time.Millisecond))
	return nil
}
