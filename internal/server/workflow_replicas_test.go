package server_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/jobs"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/store/storetest"
	"github.com/grantflow/grantflow/internal/workflow"
)

// workerChildEnv makes the test binary a replica that only works workflow
// runs (no HTTP), so a test can kill it mid-run.
const workerChildEnv = "GRANTFLOW_TEST_WORKFLOW_WORKER_DATABASE_URL"

const testHeartbeat = 200 * time.Millisecond

func init() {
	if dbURL := os.Getenv(workerChildEnv); dbURL != "" {
		os.Exit(workerChild(dbURL))
	}
}

func workerChild(dbURL string) int {
	ctx := context.Background()
	lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := sqlstore.OpenPostgres(ctx, dbURL, lg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := config.Default()
	cfg.AutomationKey = testAutomationKey
	srv, err := server.New(ctx, cfg, st, lg, server.Options{WorkflowHeartbeat: testHeartbeat})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stop, err := srv.Start(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	fmt.Println("working")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

// A replica that dies (SIGKILL) while working runs leaves no run stuck in
// running: another replica's sweeper takes them over, resumes by replay
// what can be resumed, and fails with the reason what cannot (an effect
// that may or may not have happened is not repeated).
func TestDeadReplicaRunsAreTakenOver(t *testing.T) {
	t.Parallel()
	dbURL, st, lg, srv, org := newReplicaServer(t)
	ctx := context.Background()
	admin, err := srv.Identity.CreateAdmin(ctx, org.ID, "a@example.com", "correct horse battery staple 42", store.AccessFull)
	if err != nil {
		t.Fatal(err)
	}
	tenant, err := srv.Automation.EnsureTenant(ctx, org.ID, false, automation.TriggerTenantCreated, "")
	if err != nil {
		t.Fatal(err)
	}
	hang := make(chan struct{})
	posts := 0
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts++
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); slow.Close() })
	actor := workflow.Actor{Account: admin.Account}
	sleeper := importJSON(t, srv, tenant, actor, sleepWF)
	poster := importJSON(t, srv, tenant, actor, strings.ReplaceAll(postWF, "URL", slow.URL))

	// This process only queues; the child works.
	q, err := jobs.Start(ctx, st, lg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Workflows.SetQueue(q, false)
	cmd := startWorkerReplica(t, dbURL, "the worker replica")
	var runs []string
	for _, wf := range []string{sleeper, poster} {
		r, err := srv.Workflows.StartRun(ctx, workflow.RunParams{WorkflowID: wf, Actor: actor})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r.ID)
	}
	// Both runs are inside their effect in the child: kill it there.
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range runs {
		for !effectRunning(t, st, id) {
			if time.Now().After(deadline) {
				t.Fatalf("run %s never reached its effect in the worker replica", id)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	_ = q.Stop(ctx)

	// This replica now works (and sweeps) too.
	stop, err := srv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, id := range runs {
		if _, err := srv.Workflows.Wait(wctx, id); err != nil {
			r, _ := st.Runs().GetRun(ctx, id)
			t.Fatalf("run %s is still %s after its replica died: %v", id, r.Status, err)
		}
	}
	s, _ := srv.Workflows.Run(ctx, runs[0], actor)
	if s.Status != "succeeded" || s.Attempt != 2 || s.Outputs["Done"] != "yes" {
		t.Errorf("the resumable run: %s attempt %d %q %v", s.Status, s.Attempt, s.Error, s.Outputs)
	}
	p, _ := srv.Workflows.Run(ctx, runs[1], actor)
	if p.Status != "failed" || !strings.Contains(p.Error, "interrupted") || posts != 1 {
		t.Errorf("the run interrupted in a POST: %s %q, the POST was sent %d times (want 1)", p.Status, p.Error, posts)
	}
}

// newReplicaServer is this process's server on a new PostgreSQL database
// (dbURL, for replicas to share), with one organization.
func newReplicaServer(t *testing.T) (string, *sqlstore.Store, *slog.Logger, *server.Server, store.Organization) {
	t.Helper()
	dbURL := storetest.NewPostgresDatabase(t)
	ctx := context.Background()
	lg := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := sqlstore.OpenPostgres(ctx, dbURL, lg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := config.Default()
	cfg.AutomationKey = testAutomationKey
	srv, err := server.New(ctx, cfg, st, lg, server.Options{WorkflowHeartbeat: testHeartbeat})
	if err != nil {
		t.Fatal(err)
	}
	org, err := srv.Identity.CreateOrganization(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	return dbURL, st, lg, srv, org
}

// startWorkerReplica starts a workerChild on dbURL and returns once it
// works; at cleanup its stdin is closed and it is waited for. name is the
// replica in the failure message.
func startWorkerReplica(t *testing.T, dbURL, name string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerChildEnv+"="+dbURL)
	cmd.Stderr = t.Output()
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "working\n" {
		t.Fatalf("%s did not start: %q", name, line)
	}
	return cmd
}

func effectRunning(t *testing.T, st store.Store, runID string) bool {
	acts, err := st.Runs().ListActivities(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		if (a.Type == "core.sleep" || a.Type == "web-service.http_request") && a.Status == "running" {
			return true
		}
	}
	return false
}

func importJSON(t *testing.T, srv *server.Server, tenant store.Tenant, a workflow.Actor, src string) string {
	t.Helper()
	res, err := srv.Workflows.Import(context.Background(), workflow.ImportParams{TenantID: tenant.ID, Actor: a, Data: []byte(src)})
	if err != nil || !res.Runnable {
		t.Fatalf("import: %v %+v", err, res)
	}
	return res.ID
}

const sleepWF = `{"workflow": {"unique_name": "definition_workflow_sleeper", "name": "Sleeper", "variables": [
  {"schema_id": "datatype.string", "unique_name": "variable_workflow_done", "properties": {"scope": "output", "name": "Done", "type": "datatype.string", "value": "no"}}],
  "actions": [
  {"unique_name": "definition_activity_nap", "type": "core.sleep", "properties": {"sleep_interval": 3}},
  {"unique_name": "definition_activity_set", "type": "core.set_multiple_variables", "properties": {"variables_to_update": [
    {"variable_to_update": "$workflow.definition_workflow_sleeper.output.variable_workflow_done$", "variable_value_new": "yes"}]}}]}}`

const postWF = `{"workflow": {"unique_name": "definition_workflow_poster", "name": "Poster", "actions": [
  {"unique_name": "definition_activity_post", "type": "web-service.http_request", "properties": {"method": "POST", "relative_url": "URL/charge", "body": "{}", "action_timeout": 60}}]}}`
