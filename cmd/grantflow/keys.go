package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/workflow"
)

// runKeys is `grantflow keys rotate`: a new Automation data key, every
// sealed value re-sealed with it, the old keys deleted. Servers keep
// running: they read the key list from the store. To replace the master
// key too, give GRANTFLOW_AUTOMATION_KEY="new,old" to every process first;
// the new data key is wrapped by the first.
func runKeys(ctx context.Context, c *cli, args []string) error {
	sub, rest, err := subcommand(args, "rotate")
	if err != nil {
		return err
	}
	var (
		asJSON bool
		settle time.Duration
	)
	st, svc, lg, err := c.automationCommand(ctx, "keys "+sub, rest, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.DurationVar(&settle, "settle", 2*time.Second, "wait after making the new key, so values sealed a moment before are re-sealed too")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	// The workflow engine seals values with the same vault; building it
	// registers them for re-sealing.
	if _, err := workflow.New(workflow.Config{}, st, svc, nil, lg); err != nil {
		return err
	}
	res, err := svc.RotateKeys(ctx, settle)
	if err != nil {
		return err
	}
	if asJSON {
		return c.printJSON(res)
	}
	fmt.Fprintf(c.stdout, "new data key %s; re-sealed %d values; deleted keys: %s\n", res.NewKey, res.Resealed, strings.Join(res.DeletedKeys, ", "))
	return nil
}
