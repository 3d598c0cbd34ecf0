package main

import (
	"context"
	"flag"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/loadtest"
)

// runLoadtest measures the OAuth endpoints and the Dashboard API over real
// HTTP on loopback, with the load generator in the same process (so on a
// 2-core machine the numbers include its cost). It creates its own
// organization and integrations in the given store: point it at a scratch
// --data-dir or database.
func runLoadtest(ctx context.Context, c *cli, args []string) error {
	var families, concurrency int
	var duration time.Duration
	var ops string
	st, lg, err := c.storeCommand(ctx, "loadtest", args, func(fs *flag.FlagSet) {
		fs.IntVar(&families, "families", 2000, "token families (grants) to refresh")
		fs.IntVar(&concurrency, "concurrency", 50, "concurrent clients")
		fs.DurationVar(&duration, "duration", 10*time.Second, "how long each workload runs")
		fs.StringVar(&ops, "ops", "refresh,introspect,api", "workloads, comma-separated: refresh, introspect, api")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	if concurrency < 1 || families < concurrency || duration <= 0 {
		return usagef("need --concurrency >= 1, --families >= --concurrency and a positive --duration")
	}
	_, err = loadtest.Run(ctx, loadtest.Params{Store: st, Logger: lg, Families: families, Concurrency: concurrency,
		Duration: duration, Ops: strings.Split(ops, ",")}, c.stdout)
	return err
}
