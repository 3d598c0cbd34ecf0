package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// ScheduleUpdate changes a schedule. A zero field keeps what the schedule
// has: Name "", Spec nil, MaxRuns nil, Misfire "", Inputs nil. A non-nil
// Inputs replaces all the inputs (an empty map removes them).
type ScheduleUpdate struct {
	Name    string
	Spec    *Spec
	MaxRuns *int
	Misfire string
	Inputs  map[string]any
}

// UpdateSchedule changes a schedule's name, spec, number of runs, misfire
// policy or inputs. Only a tenant_admin may. The spec and inputs are
// checked as CreateSchedule checks them (the inputs against the latest
// version of the workflow, which runs take) and nothing changes when one
// is refused. The next due time is computed again from now; the
// schedule's history, run count and enabled state stay.
func (s *Service) UpdateSchedule(ctx context.Context, id string, a Actor, p ScheduleUpdate) (ScheduleView, error) {
	sc, t, err := s.scheduleFor(ctx, id)
	if err != nil {
		return ScheduleView{}, err
	}
	if _, err := s.authorize(ctx, t, a, permAdmin, "change schedules"); err != nil {
		return ScheduleView{}, err
	}
	now := s.now()
	var c *compiled
	if p.Spec != nil {
		sp := *p.Spec
		if sp.Kind == SpecEvery && sp.Start.IsZero() {
			sp.Start = now
		}
		sp.Start = store.Micro(sp.Start)
		if c, err = compile(sp); err != nil {
			return ScheduleView{}, err
		}
	} else if c, err = compileStored(&sc); err != nil {
		return ScheduleView{}, fmt.Errorf("%w: the schedule's spec cannot be used (%v): give a new one", ErrInvalid, Plain(err))
	}
	if p.Misfire != "" && p.Misfire != store.MisfireRunOnce && p.Misfire != store.MisfireSkip {
		return ScheduleView{}, fmt.Errorf("%w: the misfire policy is run-once or skip, not %q", ErrInvalid, p.Misfire)
	}
	if p.MaxRuns != nil && *p.MaxRuns < 0 {
		return ScheduleView{}, fmt.Errorf("%w: the number of runs cannot be negative", ErrInvalid)
	}
	w, err := s.wfs.LatestWorkflow(ctx, t.ID, sc.UniqueName)
	if errors.Is(err, store.ErrNotFound) {
		return ScheduleView{}, fmt.Errorf("%w: workflow %s", ErrNotFound, sc.UniqueName)
	}
	if err != nil {
		return ScheduleView{}, err
	}
	var inputs []byte
	if p.Inputs != nil {
		pw, err := s.parse(w)
		if err != nil {
			return ScheduleView{}, err
		}
		if _, err := s.inputs(ctx, t, w, pw.file.Workflow, newID("run_"), p.Inputs); err != nil {
			return ScheduleView{}, err
		}
		if len(p.Inputs) > 0 {
			raw, _ := json.Marshal(p.Inputs)
			box, err := s.auto.Vault().Seal(ctx, raw, scheduleInputsAD(sc.ID))
			if err != nil {
				return ScheduleView{}, err
			}
			inputs, _ = json.Marshal(scheduleInputs{Names: sortedKeys(p.Inputs), Sealed: box})
		}
	}
	specJSON, _ := json.Marshal(c.spec)
	ss, _ := s.scheduleStore()
	sc, err = ss.UpdateSchedule(ctx, id, func(sc *store.Schedule) error {
		if p.Name != "" {
			sc.Name = p.Name
		}
		sc.Spec = specJSON
		if p.MaxRuns != nil {
			sc.MaxRuns = *p.MaxRuns
		}
		if p.Misfire != "" {
			sc.Misfire = p.Misfire
		}
		if p.Inputs != nil {
			sc.Inputs = inputs
		}
		sc.UpdatedAt = now
		next, ok := c.Next(now)
		switch {
		case sc.MaxRuns > 0 && sc.Runs >= sc.MaxRuns:
			sc.NextDueAt, sc.State, sc.Reason = time.Time{}, store.ScheduleFinished, fmt.Sprintf("ran %d times, as set", sc.MaxRuns)
		case !ok:
			sc.NextDueAt, sc.State, sc.Reason = time.Time{}, store.ScheduleFinished, "no due time is left"
		default:
			sc.NextDueAt = store.Micro(next)
			if sc.State == store.ScheduleFinished {
				sc.State, sc.Reason = store.ScheduleActive, ""
			}
		}
		return nil
	})
	if err != nil {
		return ScheduleView{}, err
	}
	s.record(ctx, store.AuditEvent{Action: "workflow.schedule_updated", ActorAccountID: a.id(), OrgID: t.OrgID, Target: sc.ID,
		Details: map[string]string{"tenant": t.ID, "workflow": sc.UniqueName, "spec": string(sc.Spec)}})
	return s.Schedule(ctx, id, a)
}

// UpdateSpec is Spec for a change: nil when the request gives none of
// every, cron, calendar or at (the schedule keeps its spec); a start,
// timezone, interval or times_per_day alone is refused, since they mean
// nothing without the rest of the spec.
func (q ScheduleRequest) UpdateSpec() (*Spec, error) {
	if q.Every == "" && q.Cron == "" && q.Calendar == "" && q.At == "" {
		if q.Start != nil || q.Timezone != "" || q.Interval != "" || q.TimesPerDay != 0 {
			return nil, fmt.Errorf("%w: a start, time zone, interval or runs a day change the spec: give the whole spec (every, cron, or calendar with at) with them", ErrInvalid)
		}
		return nil, nil
	}
	sp, err := q.Spec()
	if err != nil {
		return nil, err
	}
	return &sp, nil
}

// ScheduleUpdateRequest is the body of PATCH /api/automation/schedules/{id}:
// the fields of ScheduleRequest, each left out to keep what the schedule
// has ("inputs": {} removes the inputs, "times": 0 the limit).
type ScheduleUpdateRequest struct {
	ScheduleRequest
	Times *int `json:"times"`
}

// Update turns the request into a ScheduleUpdate; errors wrap ErrInvalid.
func (q ScheduleUpdateRequest) Update() (ScheduleUpdate, error) {
	sp, err := q.UpdateSpec()
	return ScheduleUpdate{Name: q.Name, Spec: sp, MaxRuns: q.Times, Misfire: q.Misfire, Inputs: q.Inputs}, err
}
