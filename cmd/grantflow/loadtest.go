package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/loadtest"
)

// runLoadtest measures the OAuth endpoints and the Dashboard API over real
// HTTP on loopback, with the load generator in the same process (so on a
// 2-core machine the numbers include its cost), and with --workflow-runs
// that many concurrent workflow runs. It creates its own organization and
// integrations in the given store: a temporary --data-dir unless told
// otherwise, or point it at a scratch database. A store that already has
// organizations (a live one) is refused.
func runLoadtest(ctx context.Context, c *cli, args []string) error {
	var families, concurrency, workflowRuns int
	var duration, workflowTimeout time.Duration
	var ops, cpuProfile, workflowFile string
	tmp, err := os.MkdirTemp("", "grantflow-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cfg := config.Default()
	cfg.DataDir = tmp
	st, lg, err := c.storeCommandWith(ctx, &cfg, "loadtest", args, func(fs *flag.FlagSet) {
		fs.IntVar(&families, "families", 2000, "token families (grants) to refresh")
		fs.IntVar(&concurrency, "concurrency", 50, "concurrent clients")
		fs.DurationVar(&duration, "duration", 10*time.Second, "how long each workload runs")
		fs.StringVar(&ops, "ops", "", "workloads, comma-separated: refresh, introspect, api (default all three, none with --workflow-runs)")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the workloads (server and load generator) to this file, for go tool pprof")
		fs.IntVar(&workflowRuns, "workflow-runs", 0, "start this many on-demand workflow runs at once and measure them (Dashboard API rate limits off)")
		fs.StringVar(&workflowFile, "workflow-file", loadtest.DefaultWorkflowFile(), "the workflow export --workflow-runs runs")
		fs.DurationVar(&workflowTimeout, "workflow-timeout", 2*time.Minute, "how long to wait for the workflow runs to end")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	if n, err := st.Organizations().CountOrganizations(ctx); err != nil {
		return err
	} else if n > 0 {
		where := cfg.DataDir
		if cfg.DatabaseURL != "" {
			where = "the --database-url database"
		}
		return fmt.Errorf("loadtest: %s is not empty (%d organizations): it would write its own organization and integrations there; "+
			"give an empty --data-dir or database, or neither for a temporary one", where, n)
	}
	opList := strings.Split(ops, ",")
	switch {
	case ops == "" && workflowRuns > 0:
		opList = nil
	case ops == "":
		opList = []string{"refresh", "introspect", "api"}
	}
	if workflowRuns < 0 || (len(opList) > 0 && (concurrency < 1 || families < concurrency || duration <= 0)) {
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
	_, _, err = loadtest.Run(ctx, loadtest.Params{Store: st, Logger: lg, Families: families, Concurrency: concurrency,
		Duration: duration, Ops: opList, WorkflowRuns: workflowRuns, WorkflowFile: workflowFile, WorkflowTimeout: workflowTimeout}, c.stdout)
	return err
}
