package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/workflow"
)

// runSchedule is `grantflow schedule create|update|list|show|enable|disable|delete`.
func runSchedule(ctx context.Context, c *cli, args []string) error {
	sub, rest, err := subcommand(args, "create", "update", "list", "show", "enable", "disable", "delete")
	if err != nil {
		return err
	}
	var id, tenantID, start string
	var q workflow.ScheduleRequest
	var wfID string
	var inputs stringList
	var asJSON bool
	var flags *flag.FlagSet
	e, _, err := c.workflowCommand(ctx, "schedule "+sub, rest, false, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		flags = fs
		switch sub {
		case "create", "update":
			if sub == "create" {
				fs.StringVar(&wfID, "workflow", "", "workflow id (required); runs take the latest version of that workflow")
			} else {
				fs.StringVar(&id, "id", "", "schedule id (required); a flag left out keeps what the schedule has")
			}
			fs.StringVar(&q.Name, "name", "", "a name (default: the workflow's)")
			fs.StringVar(&q.Every, "every", "", "run every DURATION (e.g. 15m, 24h) from --start")
			fs.StringVar(&q.Cron, "cron", "", `run on a five-field cron expression, e.g. "30 2 * * 1-5"`)
			fs.StringVar(&q.Calendar, "calendar", "", "run on the days of a calendar: "+strings.Join(workflow.CalendarNames(), ", "))
			fs.StringVar(&q.At, "at", "", "with --calendar: the first run of the day, HH:MM")
			fs.StringVar(&q.Interval, "interval", "", "with --calendar and --per-day: time between the runs of a day (e.g. 5m)")
			fs.IntVar(&q.TimesPerDay, "per-day", 1, "with --calendar: runs a day")
			fs.StringVar(&start, "start", "", "RFC 3339 time: no run before it (--every counts from it; default now)")
			fs.StringVar(&q.Timezone, "tz", "UTC", "IANA time zone of --at, --cron and the calendar's days")
			fs.IntVar(&q.Times, "times", 0, "end the schedule after N runs (0: never)")
			fs.StringVar(&q.Misfire, "misfire", "run-once", "due times missed while grantflow was down: run-once (one run for them all) or skip")
			fs.Var(&inputs, "input", "NAME=VALUE for an input variable (repeatable)")
		case "list":
			fs.StringVar(&tenantID, "tenant", "", "tenant id (required)")
		default:
			fs.StringVar(&id, "id", "", "schedule id (required)")
		}
	})
	if err != nil {
		return err
	}
	defer e.close()
	switch sub {
	case "update":
		return c.updateSchedule(ctx, e, flags, id, q, start, inputs, asJSON)
	case "create":
		if wfID == "" {
			return usagef("--workflow is required")
		}
		if start != "" {
			t, err := time.Parse(time.RFC3339, start)
			if err != nil {
				return usagef("--start: %q is not an RFC 3339 time", start)
			}
			q.Start = &t
		}
		in, err := pairs(inputs, "--input")
		if err != nil {
			return err
		}
		q.Inputs = map[string]any{}
		for k, v := range in {
			q.Inputs[k] = v
		}
		sp, err := q.Spec()
		if err != nil {
			return usageError{workflow.Plain(err)}
		}
		v, err := e.svc.CreateSchedule(ctx, workflow.ScheduleParams{WorkflowID: wfID, Actor: e.actor, Name: q.Name, Spec: sp,
			MaxRuns: q.Times, Misfire: q.Misfire, Inputs: q.Inputs})
		if err != nil {
			return err
		}
		return c.printSchedule(v, asJSON)
	case "list":
		if tenantID == "" {
			return usagef("--tenant is required")
		}
		list, err := e.svc.Schedules(ctx, tenantID, e.actor)
		if err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(list)
		}
		for _, v := range list {
			c.scheduleLine(v)
		}
		return nil
	}
	if id == "" {
		return usagef("--id is required")
	}
	switch sub {
	case "show":
		v, err := e.svc.Schedule(ctx, id, e.actor)
		if err != nil {
			return err
		}
		return c.printSchedule(v, asJSON)
	case "delete":
		if err := e.svc.DeleteSchedule(ctx, id, e.actor); err != nil {
			return err
		}
		if asJSON {
			return c.printJSON(map[string]any{"id": id, "deleted": true})
		}
		fmt.Fprintf(c.stdout, "deleted %s\n", id)
		return nil
	}
	v, err := e.svc.EnableSchedule(ctx, id, e.actor, sub == "enable")
	if err != nil {
		return err
	}
	return c.printSchedule(v, asJSON)
}

// updateSchedule is `grantflow schedule update`: the flags given change
// the schedule, the others keep what it has.
func (c *cli) updateSchedule(ctx context.Context, e *wfEnv, fs *flag.FlagSet, id string, q workflow.ScheduleRequest, start string, inputs stringList, asJSON bool) error {
	if id == "" {
		return usagef("--id is required")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["tz"] {
		q.Timezone = ""
	}
	if !set["per-day"] {
		q.TimesPerDay = 0
	}
	if !set["misfire"] {
		q.Misfire = ""
	}
	if start != "" {
		t, err := time.Parse(time.RFC3339, start)
		if err != nil {
			return usagef("--start: %q is not an RFC 3339 time", start)
		}
		q.Start = &t
	}
	u := workflow.ScheduleUpdateRequest{ScheduleRequest: q}
	if set["times"] {
		u.Times = &q.Times
	}
	if set["input"] {
		in, err := pairs(inputs, "--input")
		if err != nil {
			return err
		}
		u.Inputs = map[string]any{}
		for k, v := range in {
			u.Inputs[k] = v
		}
	}
	p, err := u.Update()
	if err != nil {
		return usageError{workflow.Plain(err)}
	}
	v, err := e.svc.UpdateSchedule(ctx, id, e.actor, p)
	if err != nil {
		return err
	}
	return c.printSchedule(v, asJSON)
}

func (c *cli) printSchedule(v workflow.ScheduleView, asJSON bool) error {
	if asJSON {
		return c.printJSON(v)
	}
	c.scheduleLine(v)
	for _, n := range v.NextRuns {
		fmt.Fprintf(c.stdout, "  next %s\n", n)
	}
	for _, f := range v.History {
		run := "-"
		if f.RunID != nil {
			run = *f.RunID
		}
		fmt.Fprintf(c.stdout, "  %s  %-13s %s %s\n", f.DueAt.Format(time.RFC3339), f.Outcome, run, f.Detail)
	}
	return nil
}

func (c *cli) scheduleLine(v workflow.ScheduleView) {
	state := v.State
	if !v.Enabled {
		state = "disabled"
	}
	by := "-"
	if v.CreatedBy != nil {
		by = *v.CreatedBy
	}
	fmt.Fprintf(c.stdout, "%s  %-8s  %s  (%s, by %s, %d runs)", v.ID, state, v.Name, v.WorkflowID, by, v.Runs)
	if v.Reason != "" {
		fmt.Fprintf(c.stdout, "  %s", v.Reason)
	}
	fmt.Fprintln(c.stdout)
}
