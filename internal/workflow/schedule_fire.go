package workflow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/jobs"
	"github.com/grantflow/grantflow/internal/store"
)

// ScheduleJob is the periodic job that fires due schedules.
const ScheduleJob = "workflow_schedules"

// ScheduleTick is how often the leader looks for due schedules: a run
// starts within about this long after its due time.
var ScheduleTick = time.Second

// MisfireGrace is how late a due time may be seen and still count as on
// time. One seen later was missed (every process was down, or the
// leader's failover took longer) and follows the schedule's misfire
// policy. It is well above a River leader failover, so a killed leader
// delays due times but makes none a misfire.
const MisfireGrace = 2 * time.Minute

// maxCatchUp bounds how many missed due times of one schedule are counted
// (an every-minute schedule after a year down); the span is recorded with
// this count and the schedule goes on from now.
const maxCatchUp = 10_000

// scheduleJobTimeout bounds one tick (a longer backlog goes on at the
// next). With River's rescue of stuck jobs after 30 s (internal/jobs), a
// tick whose process died is taken up again within about a minute, well
// inside MisfireGrace.
const scheduleJobTimeout = 30 * time.Second

// fireWorkers is how many schedules one tick fires at once.
const fireWorkers = 8

// SchedulePeriodic is the job that fires schedules, for jobs.Start. River
// runs it on one process at a time; Fire's compare-and-swap keeps a due
// time to one run even if two overlap.
func (s *Service) SchedulePeriodic() []jobs.Periodic {
	return []jobs.Periodic{{Name: ScheduleJob, Interval: ScheduleTick, Timeout: scheduleJobTimeout, Run: func(ctx context.Context) error {
		_, err := s.FireSchedules(ctx)
		return err
	}}}
}

// FireSchedules fires every schedule that is due by now, resumes paused
// schedules whose Org-scoped token is valid again, and queues runs whose
// process died between storing and queueing them. It returns how many
// runs it started.
func (s *Service) FireSchedules(ctx context.Context) (int, error) {
	ss, err := s.scheduleStore()
	if err != nil {
		return 0, err
	}
	s.resumeSchedules(ctx, ss)
	now := s.now()
	started := 0
	var errs []error
	for {
		due, err := ss.DueSchedules(ctx, now, 200)
		if err != nil {
			return started, err
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		work := make(chan store.Schedule)
		for range fireWorkers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for sc := range work {
					n, err := s.fire(ctx, ss, sc, now)
					mu.Lock()
					started += n
					if err != nil {
						errs = append(errs, fmt.Errorf("schedule %s: %w", sc.ID, err))
					}
					mu.Unlock()
				}
			}()
		}
		for _, sc := range due {
			work <- sc
		}
		close(work)
		wg.Wait()
		if len(due) < 200 || len(errs) > 0 || ctx.Err() != nil {
			break
		}
	}
	s.requeueFirings(ctx, ss, now)
	return started, errors.Join(errs...)
}

// resumeSchedules makes paused schedules active again once the tenant's
// Org-scoped token is valid. It reads the token's state only (no use, no
// refresh), so it is cheap at every tick.
func (s *Service) resumeSchedules(ctx context.Context, ss store.Schedules) {
	on := true
	paused, err := ss.ListSchedules(ctx, store.ScheduleFilter{State: store.SchedulePaused, Enabled: &on})
	if err != nil {
		s.lg.WarnContext(ctx, "listing paused schedules failed", "err", err)
		return
	}
	for _, sc := range paused {
		tok, err := s.st.Automation().GetToken(ctx, sc.TenantID, store.TokenOrg, "")
		if err != nil || tok.State == store.TokenReconnectNeeded {
			continue
		}
		sc, err := ss.UpdateSchedule(ctx, sc.ID, func(x *store.Schedule) error {
			if x.State != store.SchedulePaused {
				return errNotMine
			}
			x.State, x.Reason, x.UpdatedAt = store.ScheduleActive, "", s.now()
			return nil
		})
		if err != nil {
			continue
		}
		s.lg.InfoContext(ctx, "schedule resumed: the Org-scoped token is valid again", "schedule", sc.ID, "tenant", sc.TenantID)
		s.record(ctx, store.AuditEvent{Action: "workflow.schedule_resumed", Target: sc.ID, Details: map[string]string{"tenant": sc.TenantID}})
	}
}

// requeueFirings queues the runs of firings whose process stopped between
// the commit and the queue (a second queueing is harmless: a run is
// claimed once).
func (s *Service) requeueFirings(ctx context.Context, ss store.Schedules, now time.Time) {
	fs, err := ss.UnqueuedFirings(ctx, now.Add(-10*time.Second), 100)
	if err != nil {
		s.lg.WarnContext(ctx, "listing unqueued firings failed", "err", err)
		return
	}
	for _, f := range fs {
		if err := s.enqueue(ctx, f.RunID); err != nil {
			s.lg.WarnContext(ctx, "queueing a scheduled run failed", "run", f.RunID, "err", err)
			return
		}
		_ = ss.MarkFiringQueued(ctx, f.ScheduleID, f.DueAt)
	}
}

// errPause is a token problem that pauses a schedule.
type errPause struct{ reason string }

func (e errPause) Error() string { return e.reason }

// fire handles the due times of sc up to now in one Fire: each on-time
// due time gets a run; a missed span gets one run (run-once) or a
// skipped record; with the token needing reconnecting all are recorded as
// skipped and the schedule pauses.
func (s *Service) fire(ctx context.Context, ss store.Schedules, sc store.Schedule, now time.Time) (int, error) {
	c, err := compileStored(&sc)
	if err != nil {
		_, ferr := ss.Fire(ctx, store.FireParams{ScheduleID: sc.ID, DueAt: sc.NextDueAt, At: now, State: store.ScheduleFinished,
			Reason:  "the schedule cannot be read: " + err.Error(),
			Firings: []store.ScheduleFiring{{ScheduleID: sc.ID, DueAt: sc.NextDueAt, FiredAt: now, Outcome: store.FiringFailed, Missed: 1, Detail: err.Error()}}})
		return 0, ferr
	}
	var onTime []time.Time
	var missedFrom time.Time
	missed := 0
	next, more := sc.NextDueAt, true
	for n := 0; more && !next.After(now); n++ {
		if n == maxCatchUp {
			next, more = c.Next(now)
			break
		}
		if now.Sub(next) > MisfireGrace {
			if missed == 0 {
				missedFrom = next
			}
			missed++
		} else {
			onTime = append(onTime, next)
		}
		next, more = c.Next(next)
	}
	p := store.FireParams{ScheduleID: sc.ID, DueAt: sc.NextDueAt, At: now, State: store.ScheduleActive}
	if more {
		p.Next = store.Micro(next)
	}
	left := -1 // runs left; -1: no limit
	if sc.MaxRuns > 0 {
		left = sc.MaxRuns - sc.Runs
	}
	var pause *errPause
	add := func(due time.Time, outcome string, span int) {
		f := store.ScheduleFiring{ScheduleID: sc.ID, DueAt: store.Micro(due), FiredAt: now, Outcome: outcome, Missed: span}
		if pause != nil {
			f.Outcome, f.Detail = store.FiringTokenSkipped, pause.reason
			p.Firings = append(p.Firings, f)
			return
		}
		if outcome == store.FiringSkipped {
			f.Detail = fmt.Sprintf("%d due time(s) from %s were missed while grantflow was not running; the misfire policy is skip", span, due.Format(time.RFC3339))
			p.Firings = append(p.Firings, f)
			return
		}
		if left == 0 {
			return
		}
		r, err := s.scheduledRun(ctx, sc, now)
		var ep errPause
		switch {
		case errors.As(err, &ep):
			pause = &ep
			f.Outcome, f.Detail = store.FiringTokenSkipped, ep.reason
		case err != nil:
			f.Outcome, f.Detail = store.FiringFailed, Plain(err)
		default:
			f.RunID = r.ID
			if outcome == store.FiringCatchUp {
				f.Detail = fmt.Sprintf("one run for %d due time(s) from %s, missed while grantflow was not running", span, due.Format(time.RFC3339))
			}
			p.Runs = append(p.Runs, r)
			if left > 0 {
				left--
			}
		}
		p.Firings = append(p.Firings, f)
	}
	if missed > 0 {
		if sc.Misfire == store.MisfireSkip {
			add(missedFrom, store.FiringSkipped, missed)
		} else {
			add(missedFrom, store.FiringCatchUp, missed)
		}
	}
	for _, due := range onTime {
		add(due, store.FiringRun, 1)
	}
	switch {
	case left == 0:
		p.Next, p.State, p.Reason = time.Time{}, store.ScheduleFinished, fmt.Sprintf("ran %d times, as set", sc.MaxRuns)
	case !more:
		p.State, p.Reason = store.ScheduleFinished, "no due time is left"
	case pause != nil:
		p.State, p.Reason = store.SchedulePaused, pause.reason
	}
	ok, err := ss.Fire(ctx, p)
	if err != nil || !ok {
		return 0, err // !ok: another process fired these due times
	}
	if pause != nil && sc.State != store.SchedulePaused {
		s.lg.WarnContext(ctx, "schedule paused: the Org-scoped token needs reconnecting", "schedule", sc.ID, "tenant", sc.TenantID, "reason", pause.reason)
		s.record(ctx, store.AuditEvent{Action: "workflow.schedule_paused", Target: sc.ID,
			Details: map[string]string{"tenant": sc.TenantID, "reason": pause.reason}})
	}
	for _, f := range p.Firings {
		if f.RunID == "" {
			continue
		}
		s.record(ctx, store.AuditEvent{Action: "workflow.run_started", Target: f.RunID,
			Details: map[string]string{"tenant": sc.TenantID, "workflow": sc.UniqueName, "token": string(store.TokenOrg), "schedule": sc.ID,
				"due_at": f.DueAt.Format(time.RFC3339Nano)}})
		if err := s.enqueue(ctx, f.RunID); err != nil {
			// The firing stays unqueued; requeueFirings tries again.
			s.lg.WarnContext(ctx, "queueing a scheduled run failed", "run", f.RunID, "err", err)
			continue
		}
		_ = ss.MarkFiringQueued(ctx, sc.ID, f.DueAt)
	}
	return len(p.Runs), nil
}

// scheduledRun prepares (but does not store) a run of the latest version
// of sc's workflow on the tenant's Org-scoped token. It takes the same
// steps as queueRun up to storing the run, which Fire does in the
// transaction that records the due time: a due time and its run are
// written together or not at all.
func (s *Service) scheduledRun(ctx context.Context, sc store.Schedule, now time.Time) (store.Run, error) {
	t, err := s.tenant(ctx, sc.TenantID)
	if err != nil {
		return store.Run{}, err
	}
	w, err := s.wfs.LatestWorkflow(ctx, t.ID, sc.UniqueName)
	if err != nil {
		return store.Run{}, fmt.Errorf("the workflow %s: %w", sc.UniqueName, err)
	}
	given, err := s.scheduleInputValues(ctx, sc)
	if err != nil {
		return store.Run{}, err
	}
	r, err := s.prepareRun(ctx, t, w, RunParams{Inputs: given}, store.TokenOrg, sc.ID, now)
	var tp *tokenProblem
	if errors.As(err, &tp) {
		var re *keeper.ReconnectError
		switch {
		case errors.As(err, &re):
			return store.Run{}, errPause{"the tenant's Org-scoped token needs reconnecting (" + re.Reason + "): a tenant_admin reconnects it under Automation (/automation)"}
		case errors.Is(err, keeper.ErrMissing):
			return store.Run{}, errPause{"the tenant has no Org-scoped token yet: a tenant_admin opens Automation (/automation) once to get it"}
		}
	}
	return r, err
}
