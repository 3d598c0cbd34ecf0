package loadtest

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store/sqlstore"
)

// The workflow workload, small: 20 runs of the Cisco sample at once on
// SQLite, so that `grantflow loadtest --workflow-runs` keeps working.
func TestWorkflowRuns(t *testing.T) {
	file := DefaultWorkflowFile()
	if _, err := os.Stat(file); file == "" || err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the sample export is missing at %q (CI must have shared/ beside the repository)", file)
		}
		t.Skipf("the sample export is not at %q; skipping", file)
	}
	lg := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "grantflow.db"), lg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	var out bytes.Buffer
	results, wr, err := Run(ctx, Params{Store: st, Logger: lg, WorkflowRuns: 20, WorkflowFile: file, WorkflowTimeout: 30 * time.Second}, &out)
	t.Logf("\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 0 || wr == nil {
		t.Fatalf("results %v, workflow result %v: want only the workflow workload", results, wr)
	}
	if wr.Succeeded != 20 || wr.Started != 20 || len(wr.Failures) > 0 {
		t.Errorf("%d started, %d succeeded, failures %v; want 20, 20 and none", wr.Started, wr.Succeeded, wr.Failures)
	}
	for name, d := range map[string]Dist{"POST": wr.Post, "queued": wr.Queued, "work": wr.Work, "total": wr.Total} {
		// A run the accepting process starts itself waits in no queue.
		if d.N != 20 || d.Max < 0 || (d.Max == 0 && name != "queued") || d.P50 > d.Max {
			t.Errorf("%s: %+v", name, d)
		}
	}
	if wr.Total.Max < wr.Work.Max || wr.RunsPerSecond() <= 0 || wr.HeapPeak == 0 || wr.Alloc == 0 || wr.Sys == 0 {
		t.Errorf("inconsistent result %+v", wr)
	}
	for _, want := range []string{"rate limits off", "created -> ended", "20 of 20 runs succeeded", "heap in use"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}
