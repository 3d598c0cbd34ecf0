package main

import (
	"context"
	"flag"
	"os"
	"runtime/pprof"
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
	var ops, cpuProfile string
	st, lg, err := c.storeCommand(ctx, "loadtest", args, func(fs *flag.FlagSet) {
		fs.IntVar(&families, "families", 2000, "token families (grants) to refresh")
		fs.IntVar(&concurrency, "concurrency", 50, "concurrent clients")
		fs.DurationVar(&duration, "duration", 10*time.Second, "how long each workload runs")
		fs.StringVar(&ops, "ops", "refresh,introspect,api", "workloads, comma-separated: refresh, introspect, api")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the workloads (server and load generator) to this file, for go tool pprof")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	if concurrency < 1 || families < concurrency || duration <= 0 {
		return usagef("need --concurrency >= 1, --families >= --concurrency and a positive --duration")
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	_, err = loadtest.Run(ctx, loadtest.Params{Store: st, Logger: lg, Families: families, Concurrency: concurrency,
		Duration: duration, Ops: strings.Split(ops, ",")}, c.stdout)
	return err
}
