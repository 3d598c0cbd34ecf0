package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/jobs"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/workflow"
)

// wfEnv is what the workflow commands share: the store, the services and
// the person acting.
type wfEnv struct {
	st     *sqlstore.Store
	svc    *workflow.Service
	lg     *slog.Logger
	actor  workflow.Actor
	runner *jobs.Runner
	args   []string // positional arguments (files)
}

func (e *wfEnv) close() {
	if e.runner != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.runner.Stop(sctx)
		e.svc.Drain(sctx)
	}
	e.st.Close()
}

// workflowCommand is the shared setup of the workflow commands: the store
// and Automation flags, --as, then the workflow service. work starts a job
// runner that works runs in this process (for --wait); otherwise runs are
// only queued, for a server to work.
func (c *cli) workflowCommand(ctx context.Context, name string, args []string, positional bool, bind func(fs *flag.FlagSet)) (*wfEnv, *bool, error) {
	var email string
	wait := new(bool)
	e := &wfEnv{}
	var rest *[]string
	if positional {
		rest = &e.args
	}
	st, auto, lg, err := c.automationCommandRest(ctx, name, args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "as", "", "email of the person acting (their role is checked; runs use their User token)")
		fs.BoolVar(wait, "wait", false, "wait until the run has ended or waits for a person")
		if bind != nil {
			bind(fs)
		}
	}, rest)
	if err != nil {
		return nil, nil, err
	}
	e.st, e.lg = st, lg
	fail := func(err error) (*wfEnv, *bool, error) { st.Close(); return nil, nil, err }
	if e.svc, err = workflow.New(workflow.Config{}, st, auto, audit.New(st.Audit(), nil, lg), lg); err != nil {
		return fail(err)
	}
	if email != "" {
		acct, err := st.Accounts().GetAccountByEmail(ctx, strings.ToLower(email))
		if errors.Is(err, store.ErrNotFound) {
			return fail(fmt.Errorf("no account %s", email))
		}
		if err != nil {
			return fail(err)
		}
		e.actor = workflow.Actor{Account: acct}
	}
	return e, wait, nil
}

// queue gives the service a job runner: one that works runs here when the
// command waits for them, an insert-only one otherwise.
func (e *wfEnv) queue(ctx context.Context, work bool) error {
	var err error
	if work {
		e.runner, err = jobs.Start(context.WithoutCancel(ctx), e.st, e.lg, nil, e.svc.Task())
	} else {
		e.runner, err = jobs.Start(context.WithoutCancel(ctx), e.st, e.lg, nil)
	}
	if err != nil {
		return err
	}
	e.svc.SetQueue(e.runner, work)
	return nil
}

func runWorkflow(ctx context.Context, c *cli, args []string) error {
	sub, rest, err := subcommand(args, "import", "list", "export", "run", "secret")
	if err != nil {
		return err
	}
	switch sub {
	case "import":
		return workflowImport(ctx, c, rest)
	case "list":
		return workflowList(ctx, c, rest)
	case "export":
		return workflowExport(ctx, c, rest)
	case "secret":
		return workflowSecret(ctx, c, rest)
	}
	return workflowRun(ctx, c, rest)
}

func workflowImport(ctx context.Context, c *cli, args []string) error {
	var tenantID string
	var asJSON bool
	var secrets stringList
	e, _, err := c.workflowCommand(ctx, "workflow import", args, true, func(fs *flag.FlagSet) {
		fs.StringVar(&tenantID, "tenant", "", "tenant id (required)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.Var(&secrets, "secret", "NAME=VALUE for a secure-string variable (repeatable)")
	})
	if err != nil {
		return err
	}
	defer e.close()
	if tenantID == "" || len(e.args) == 0 {
		return usagef("usage: grantflow workflow import --tenant TENANT_ID [--as EMAIL] [--json] FILE...")
	}
	sv, err := pairs(secrets, "--secret")
	if err != nil {
		return err
	}
	var results []workflow.ImportResult
	failed := 0
	for _, file := range e.args {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		res, err := e.svc.Import(ctx, workflow.ImportParams{TenantID: tenantID, Actor: e.actor, File: filepath.Base(file), Data: data, Secrets: sv})
		res.File = file
		if err != nil {
			if len(res.Problems) == 0 {
				return err
			}
			failed++
		}
		results = append(results, res)
	}
	if len(results) > 1 {
		// A file imported later in the batch may bring what an earlier one
		// calls (the import re-checks the stored versions): answer with
		// each workflow as it stands now.
		now, err := e.svc.Workflows(ctx, tenantID, e.actor)
		if err != nil {
			return err
		}
		byID := make(map[string]workflow.ImportResult, len(now))
		for _, w := range now {
			byID[w.ID] = w
		}
		for i, r := range results {
			if w, ok := byID[r.ID]; ok && len(r.Problems) == 0 {
				w.File = r.File
				results[i] = w
			}
		}
	}
	if asJSON {
		if err := c.printJSON(results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			switch {
			case len(r.Problems) > 0:
				fmt.Fprintf(c.stdout, "%s: not imported, not a workflow export:\n", r.File)
				for _, p := range r.Problems {
					fmt.Fprintf(c.stdout, "  %s: %s\n", p.Path, p.Message)
				}
			default:
				state := "runnable"
				if !r.Runnable {
					state = "NOT runnable"
				}
				fmt.Fprintf(c.stdout, "%s: %s %q version %d (%s)\n", r.File, r.ID, r.Name, r.Version, state)
				for _, b := range r.Broken {
					fmt.Fprintf(c.stdout, "  broken: %s: %s\n", b.Path, b.Message)
				}
				for _, m := range r.Missing {
					fmt.Fprintf(c.stdout, "  missing: %s (%s)\n", m.Name, m.WorkflowID)
				}
				for _, u := range r.Unsupported {
					fmt.Fprintf(c.stdout, "  unsupported: %s at %s\n", u.Type, u.Path)
				}
				for _, s := range r.Secrets {
					if !s.Set {
						fmt.Fprintf(c.stdout, "  secure variable %q has no value yet (grantflow workflow secret --id %s --name %q --value-stdin)\n", s.Name, r.ID, s.Name)
					}
				}
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files are not workflow exports; nothing of them was stored", failed, len(results))
	}
	return nil
}

func pairs(l []string, flagName string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range l {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usagef("%s %q: want NAME=VALUE", flagName, p)
		}
		out[k] = v
	}
	return out, nil
}

func workflowList(ctx context.Context, c *cli, args []string) error {
	return tenantListing(ctx, c, "workflow list", args, func(e *wfEnv, tenantID string) ([]workflow.ImportResult, error) {
		return e.svc.Workflows(ctx, tenantID, e.actor)
	}, func(w workflow.ImportResult) string {
		state := "runnable"
		if !w.Runnable {
			state = "not runnable"
		}
		return fmt.Sprintf("%s  v%d  %-12s  %s", w.ID, w.Version, state, w.Name)
	})
}

// tenantListing is a `… list --tenant ID [--json]` command: one line per
// item, or the items as JSON.
func tenantListing[T any](ctx context.Context, c *cli, name string, args []string, list func(e *wfEnv, tenantID string) ([]T, error), line func(T) string) error {
	var tenantID string
	var asJSON bool
	e, _, err := c.workflowCommand(ctx, name, args, false, func(fs *flag.FlagSet) {
		fs.StringVar(&tenantID, "tenant", "", "tenant id (required)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	defer e.close()
	if tenantID == "" {
		return usagef("--tenant is required")
	}
	items, err := list(e, tenantID)
	if err != nil {
		return err
	}
	if asJSON {
		return c.printJSON(items)
	}
	for _, it := range items {
		fmt.Fprintln(c.stdout, line(it))
	}
	return nil
}

func workflowExport(ctx context.Context, c *cli, args []string) error {
	var id string
	e, _, err := c.workflowCommand(ctx, "workflow export", args, false, func(fs *flag.FlagSet) {
		fs.StringVar(&id, "id", "", "workflow id (required)")
	})
	if err != nil {
		return err
	}
	defer e.close()
	if id == "" {
		return usagef("--id is required")
	}
	data, err := e.svc.Export(ctx, id, e.actor)
	if err != nil {
		return err
	}
	_, err = c.stdout.Write(data)
	return err
}

func workflowSecret(ctx context.Context, c *cli, args []string) error {
	var id, name string
	e, _, err := c.workflowCommand(ctx, "workflow secret", args, false, func(fs *flag.FlagSet) {
		fs.StringVar(&id, "id", "", "workflow id (required)")
		fs.StringVar(&name, "name", "", "the secure variable's name or id (required)")
	})
	if err != nil {
		return err
	}
	defer e.close()
	if id == "" || name == "" {
		return usagef("--id and --name are required; the value is read from standard input")
	}
	value, err := readSecret(c)
	if err != nil {
		return err
	}
	return e.svc.SetSecret(ctx, id, e.actor, name, value)
}

func readSecret(c *cli) (string, error) {
	buf := make([]byte, 64<<10)
	n, err := c.stdin.Read(buf)
	if err != nil && n == 0 {
		return "", errors.New("no value on standard input")
	}
	return strings.TrimRight(string(buf[:n]), "\r\n"), nil
}

func workflowRun(ctx context.Context, c *cli, args []string) error {
	var id, target string
	var inputs stringList
	var asJSON bool
	e, wait, err := c.workflowCommand(ctx, "workflow run", args, false, func(fs *flag.FlagSet) {
		fs.StringVar(&id, "id", "", "workflow id (required)")
		fs.Var(&inputs, "input", "NAME=VALUE for an input, by display name or variable id (repeatable)")
		fs.StringVar(&target, "target", "", "a target id instead of the Meraki - Current Org target")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	defer e.close()
	if id == "" || e.actor.Account.ID == "" {
		return usagef("--id and --as are required")
	}
	in, err := pairs(inputs, "--input")
	if err != nil {
		return err
	}
	if err := e.queue(ctx, *wait); err != nil {
		return err
	}
	vals := make(map[string]any, len(in))
	for k, v := range in {
		vals[k] = v
	}
	r, err := e.svc.StartRun(ctx, workflow.RunParams{WorkflowID: id, Actor: e.actor, Inputs: vals, TargetID: target})
	if err != nil {
		return err
	}
	return c.showRun(ctx, e, r.ID, *wait, asJSON)
}

// showRun prints a run, after waiting for it if asked.
func (c *cli) showRun(ctx context.Context, e *wfEnv, id string, wait, asJSON bool) error {
	if wait {
		if _, err := e.svc.Wait(ctx, id); err != nil {
			return err
		}
	}
	v, err := e.svc.Run(ctx, id, e.actor)
	if err != nil {
		return err
	}
	if asJSON {
		if err := c.printJSON(v); err != nil {
			return err
		}
	} else {
		printRun(c, v)
	}
	if wait && (v.Status == store.RunFailed || v.Status == store.RunTimeout || v.Status == store.RunCancelled) {
		return fmt.Errorf("the run %s", v.Status)
	}
	return nil
}

func printRun(c *cli, v workflow.RunView) {
	fmt.Fprintf(c.stdout, "run %s: %s (%q version %d)\n", v.ID, v.Status, v.WorkflowName, v.Version)
	if v.Token != nil {
		owner := "the tenant"
		if v.Token.Owner != nil {
			owner = *v.Token.Owner
		}
		fmt.Fprintf(c.stdout, "  token: %s (%s)\n", v.Token.Kind, owner)
	}
	for _, a := range v.Activities {
		d := ""
		if a.StartedAt != nil && a.EndedAt != nil {
			d = a.EndedAt.Sub(*a.StartedAt).Round(time.Millisecond).String()
		}
		fmt.Fprintf(c.stdout, "  %-10s %-32s %-28s %s %s\n", a.Status, a.Type, a.Title, d, a.Error)
	}
	for k, o := range v.Outputs {
		fmt.Fprintf(c.stdout, "  output %s = %v\n", k, o)
	}
	if v.ResultMessage != "" {
		fmt.Fprintf(c.stdout, "  result: %s\n", v.ResultMessage)
	}
	if v.Error != "" {
		fmt.Fprintf(c.stdout, "  error: %s\n", v.Error)
	}
	if v.Prompt != nil {
		fmt.Fprintf(c.stdout, "  waiting for an answer to %q:\n", v.Prompt.Title)
		for _, f := range v.Prompt.Fields {
			fmt.Fprintf(c.stdout, "    %s (%s) %s\n", f.Label, f.Type, strings.Join(f.Options, " | "))
		}
		fmt.Fprintf(c.stdout, "  answer with: grantflow run answer --id %s --as EMAIL --field LABEL=VALUE\n", v.ID)
	}
}

func runRun(ctx context.Context, c *cli, args []string) error {
	sub, rest, err := subcommand(args, "show", "list", "answer", "cancel")
	if err != nil {
		return err
	}
	var id, tenantID, wfID, schedID string
	var fields stringList
	var asJSON bool
	e, wait, err := c.workflowCommand(ctx, "run "+sub, rest, false, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		switch sub {
		case "list":
			fs.StringVar(&tenantID, "tenant", "", "tenant id (required)")
			fs.StringVar(&wfID, "workflow", "", "only runs of this workflow version")
			fs.StringVar(&schedID, "schedule", "", "only runs of this schedule")
		default:
			fs.StringVar(&id, "id", "", "run id (required)")
		}
		if sub == "answer" {
			fs.Var(&fields, "field", "LABEL=VALUE answering a prompt field (repeatable)")
		}
	})
	if err != nil {
		return err
	}
	defer e.close()
	switch sub {
	case "list":
		if tenantID == "" {
			return usagef("--tenant is required")
		}
		list, err := e.svc.Runs(ctx, store.RunFilter{TenantID: tenantID, WorkflowID: wfID, ScheduleID: schedID}, e.actor)
		if err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(list)
		}
		for _, v := range list {
			fmt.Fprintf(c.stdout, "%s  %-16s  %s v%d\n", v.ID, v.Status, v.WorkflowName, v.Version)
		}
		return nil
	case "show":
		if id == "" {
			return usagef("--id is required")
		}
		return c.showRun(ctx, e, id, false, asJSON)
	case "answer":
		if id == "" || e.actor.Account.ID == "" || len(fields) == 0 {
			return usagef("--id, --as and at least one --field are required")
		}
		f, err := pairs(fields, "--field")
		if err != nil {
			return err
		}
		if err := e.queue(ctx, *wait); err != nil {
			return err
		}
		if _, err := e.svc.Answer(ctx, id, e.actor, f); err != nil {
			return err
		}
		return c.showRun(ctx, e, id, *wait, asJSON)
	default: // cancel
		if id == "" || e.actor.Account.ID == "" {
			return usagef("--id and --as are required")
		}
		if _, err := e.svc.Cancel(ctx, id, e.actor); err != nil {
			return err
		}
		return c.showRun(ctx, e, id, false, asJSON)
	}
}

func targetList(ctx context.Context, c *cli, args []string) error {
	return tenantListing(ctx, c, "target list", args, func(e *wfEnv, tenantID string) ([]workflow.TargetView, error) {
		return e.svc.Targets(ctx, tenantID, e.actor)
	}, func(t workflow.TargetView) string {
		return fmt.Sprintf("%s  %-22s %s://%s:%d%s  %s", t.ID, t.Type, t.Protocol, t.Host, t.Port, t.Path, t.Name)
	})
}

func targetUpdate(ctx context.Context, c *cli, args []string) error {
	var id, host, protocol, path string
	var port int
	var asJSON bool
	set := map[string]bool{}
	e, _, err := c.workflowCommand(ctx, "target update", args, false, func(fs *flag.FlagSet) {
		fs.StringVar(&id, "id", "", "target id (required)")
		fs.StringVar(&host, "host", "", "host name or address")
		fs.IntVar(&port, "port", 0, "port")
		fs.StringVar(&protocol, "protocol", "", "http or https")
		fs.StringVar(&path, "path", "", "base path, e.g. /v1")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	defer e.close()
	if id == "" {
		return usagef("--id is required")
	}
	for _, a := range args {
		name := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-")
		set[name] = true
	}
	var u workflow.TargetUpdate
	if set["host"] {
		u.Host = &host
	}
	if set["port"] {
		u.Port = &port
	}
	if set["protocol"] {
		u.Protocol = &protocol
	}
	if set["path"] {
		u.Path = &path
	}
	t, err := e.svc.UpdateTarget(ctx, id, e.actor, u)
	if err != nil {
		return err
	}
	if asJSON {
		return c.printJSON(t)
	}
	fmt.Fprintf(c.stdout, "%s  %s://%s:%d%s  %s\n", t.ID, t.Protocol, t.Host, t.Port, t.Path, t.Name)
	return nil
}
