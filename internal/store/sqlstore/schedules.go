package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

type schedules struct{ s *Store }

// Schedules returns workflow schedules and their firings.
func (s *Store) Schedules() store.Schedules { return schedules{s} }

const scheduleCols = `id, tenant_id, workflow_id, unique_name, name, spec, inputs, misfire, max_runs, runs, enabled, state, reason,
	next_due_at, created_by, source, external_id, created_at, updated_at`

func scanSchedule(row scanner) (store.Schedule, error) {
	var sc store.Schedule
	var next sql.NullInt64
	var created, updated int64
	err := row.Scan(&sc.ID, &sc.TenantID, &sc.WorkflowID, &sc.UniqueName, &sc.Name, &sc.Spec, &sc.Inputs, &sc.Misfire, &sc.MaxRuns,
		&sc.Runs, &sc.Enabled, &sc.State, &sc.Reason, &next, &sc.CreatedBy, &sc.Source, &sc.ExternalID, &created, &updated)
	sc.NextDueAt, sc.CreatedAt, sc.UpdatedAt = fromUS(next), fromUSv(created), fromUSv(updated)
	return sc, err
}

func scheduleArgs(sc store.Schedule) []any {
	if sc.Spec == nil {
		sc.Spec = []byte{}
	}
	return []any{sc.ID, sc.TenantID, sc.WorkflowID, sc.UniqueName, sc.Name, sc.Spec, blob(sc.Inputs), sc.Misfire, sc.MaxRuns,
		sc.Runs, sc.Enabled, sc.State, sc.Reason, us(sc.NextDueAt), sc.CreatedBy, sc.Source, sc.ExternalID, usv(sc.CreatedAt), usv(sc.UpdatedAt)}
}

func (ss schedules) CreateSchedule(ctx context.Context, sc store.Schedule) error {
	if sc.ID == "" || sc.TenantID == "" || sc.WorkflowID == "" {
		return errors.New("sqlstore: a schedule needs an id, a tenant and a workflow")
	}
	_, err := ss.s.w.ExecContext(ctx, `INSERT INTO workflow_schedules (`+scheduleCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
		$11, $12, $13, $14, $15, $16, $17, $18, $19)`, scheduleArgs(sc)...)
	return notFoundFK(conflictOr(err))
}

func (ss schedules) GetSchedule(ctx context.Context, id string) (store.Schedule, error) {
	sc, err := scanSchedule(ss.s.r.QueryRowContext(ctx, `SELECT `+scheduleCols+` FROM workflow_schedules WHERE id = $1`, id))
	return sc, notFound(err)
}

func (ss schedules) ListSchedules(ctx context.Context, f store.ScheduleFilter) ([]store.Schedule, error) {
	w := &where{}
	if f.TenantID != "" {
		w.add("tenant_id = " + w.arg(f.TenantID))
	}
	if f.UniqueName != "" {
		w.add("unique_name = " + w.arg(f.UniqueName))
	}
	if f.State != "" {
		w.add("state = " + w.arg(f.State))
	}
	if f.Enabled != nil {
		w.add("enabled = " + w.arg(*f.Enabled))
	}
	rows, err := ss.s.r.QueryContext(ctx, `SELECT `+scheduleCols+` FROM workflow_schedules`+w.String()+` ORDER BY created_at, id`, w.args...)
	return scanAll(rows, err, scanSchedule)
}

func (ss schedules) UpdateSchedule(ctx context.Context, id string, fn func(sc *store.Schedule) error) (store.Schedule, error) {
	var out store.Schedule
	err := ss.s.tx(ctx, func(tx *sql.Tx) error {
		sc, err := scanSchedule(tx.QueryRowContext(ctx, `SELECT `+scheduleCols+` FROM workflow_schedules WHERE id = $1`+ss.s.forUpdate, id))
		if err != nil {
			return notFound(err)
		}
		keep := sc
		if err := fn(&sc); err != nil {
			return err
		}
		sc.ID, sc.TenantID, sc.WorkflowID, sc.UniqueName, sc.Runs = keep.ID, keep.TenantID, keep.WorkflowID, keep.UniqueName, keep.Runs
		sc.CreatedBy, sc.Source, sc.CreatedAt = keep.CreatedBy, keep.Source, keep.CreatedAt
		if _, err := tx.ExecContext(ctx, `UPDATE workflow_schedules SET name = $5, spec = $6, inputs = $7, misfire = $8, max_runs = $9,
			enabled = $11, state = $12, reason = $13, next_due_at = $14, external_id = $17, updated_at = $19
			WHERE id = $1 AND tenant_id = $2 AND workflow_id = $3 AND unique_name = $4 AND runs = $10 AND created_by = $15
			AND source = $16 AND created_at = $18`, scheduleArgs(sc)...); err != nil {
			return err
		}
		out = sc
		return nil
	})
	return out, err
}

func (ss schedules) DeleteSchedule(ctx context.Context, id string) error {
	res, err := ss.s.w.ExecContext(ctx, `DELETE FROM workflow_schedules WHERE id = $1`, id)
	return affected(res, err)
}

func (ss schedules) DueSchedules(ctx context.Context, now time.Time, limit int) ([]store.Schedule, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := ss.s.r.QueryContext(ctx, `SELECT `+scheduleCols+` FROM workflow_schedules
		WHERE enabled AND next_due_at IS NOT NULL AND next_due_at <= $1 ORDER BY next_due_at, id LIMIT $2`, usv(now), limit)
	return scanAll(rows, err, scanSchedule)
}

// Fire is a compare-and-swap on next_due_at followed by the inserts. On
// PostgreSQL a concurrent Fire of the same due time waits on the row lock
// of the UPDATE and then finds next_due_at moved on (zero rows); on SQLite
// the single writer serialises them. The firing's primary key would stop
// a double fire even if the swap were bypassed.
func (ss schedules) Fire(ctx context.Context, p store.FireParams) (bool, error) {
	fired := false
	err := ss.s.tx(ctx, func(tx *sql.Tx) error {
		ran := 0
		for _, f := range p.Firings {
			if f.RunID != "" {
				ran++
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE workflow_schedules SET next_due_at = $1, runs = runs + $2, state = $3, reason = $4, updated_at = $5
			WHERE id = $6 AND enabled AND next_due_at = $7`, us(p.Next), ran, p.State, p.Reason, usv(p.At), p.ScheduleID, usv(p.DueAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err // not ours: fired stays false
		}
		for _, f := range p.Firings {
			if _, err := tx.ExecContext(ctx, `INSERT INTO workflow_schedule_firings (schedule_id, due_at, fired_at, outcome, missed, run_id, detail, queued)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, p.ScheduleID, usv(f.DueAt), usv(f.FiredAt), f.Outcome, max(f.Missed, 1), f.RunID, f.Detail, f.Queued); err != nil {
				if isUnique(err) {
					return errLost
				}
				return err
			}
		}
		for _, r := range p.Runs {
			if _, err := tx.ExecContext(ctx, insertRunSQL, runArgs(r)...); err != nil {
				return notFoundFK(conflictOr(err))
			}
		}
		fired = true
		return nil
	})
	if errors.Is(err, errLost) {
		return false, nil
	}
	return fired, err
}

var errLost = errors.New("sqlstore: the due time was fired by another process")

const firingCols = `schedule_id, due_at, fired_at, outcome, missed, run_id, detail, queued`

func scanFiring(row scanner) (store.ScheduleFiring, error) {
	var f store.ScheduleFiring
	var due, fired int64
	err := row.Scan(&f.ScheduleID, &due, &fired, &f.Outcome, &f.Missed, &f.RunID, &f.Detail, &f.Queued)
	f.DueAt, f.FiredAt = fromUSv(due), fromUSv(fired)
	return f, err
}

func (ss schedules) ListFirings(ctx context.Context, scheduleID string, limit int) ([]store.ScheduleFiring, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := ss.s.r.QueryContext(ctx, `SELECT `+firingCols+` FROM workflow_schedule_firings WHERE schedule_id = $1
		ORDER BY due_at DESC LIMIT $2`, scheduleID, limit)
	return scanAll(rows, err, scanFiring)
}

func (ss schedules) UnqueuedFirings(ctx context.Context, before time.Time, limit int) ([]store.ScheduleFiring, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := ss.s.r.QueryContext(ctx, `SELECT `+firingCols+` FROM workflow_schedule_firings
		WHERE NOT queued AND run_id <> '' AND fired_at < $1 ORDER BY fired_at LIMIT $2`, usv(before), limit)
	return scanAll(rows, err, scanFiring)
}

func (ss schedules) MarkFiringQueued(ctx context.Context, scheduleID string, dueAt time.Time) error {
	res, err := ss.s.w.ExecContext(ctx, `UPDATE workflow_schedule_firings SET queued = TRUE WHERE schedule_id = $1 AND due_at = $2`,
		scheduleID, usv(dueAt))
	return affected(res, err)
}
