package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

type runs struct{ s *Store }

// Runs returns workflow runs and their activities.
func (s *Store) Runs() store.Runs { return runs{s} }

const runCols = `id, tenant_id, workflow_id, workflow_name, version, status, started_by, schedule_id, token_kind, token_owner, target_id,
	inputs, outputs, result_message, error, prompt, answer, answered_by, cancel_requested, owner, heartbeat_at, attempt,
	created_at, started_at, ended_at`

func scanRun(row scanner) (store.Run, error) {
	var r store.Run
	var heartbeat, started, ended sql.NullInt64
	var created int64
	err := row.Scan(&r.ID, &r.TenantID, &r.WorkflowID, &r.WorkflowName, &r.Version, &r.Status, &r.StartedBy, &r.ScheduleID,
		&r.TokenKind, &r.TokenOwner, &r.TargetID, &r.Inputs, &r.Outputs, &r.ResultMessage, &r.Error, &r.Prompt, &r.Answer,
		&r.AnsweredBy, &r.CancelRequested, &r.Owner, &heartbeat, &r.Attempt, &created, &started, &ended)
	r.HeartbeatAt, r.CreatedAt, r.StartedAt, r.EndedAt = fromUS(heartbeat), fromUSv(created), fromUS(started), fromUS(ended)
	return r, err
}

func runArgs(r store.Run) []any {
	return []any{r.ID, r.TenantID, r.WorkflowID, r.WorkflowName, r.Version, r.Status, r.StartedBy, r.ScheduleID,
		r.TokenKind, r.TokenOwner, r.TargetID, blob(r.Inputs), blob(r.Outputs), r.ResultMessage, r.Error, blob(r.Prompt), blob(r.Answer),
		r.AnsweredBy, r.CancelRequested, r.Owner, us(r.HeartbeatAt), r.Attempt, usv(r.CreatedAt), us(r.StartedAt), us(r.EndedAt)}
}

// insertRunSQL inserts one run from runArgs.
const insertRunSQL = `INSERT INTO workflow_runs (` + runCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
	$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`

func (rs runs) CreateRun(ctx context.Context, r store.Run) error {
	_, err := rs.s.w.ExecContext(ctx, insertRunSQL, runArgs(r)...)
	return notFoundFK(conflictOr(err))
}

func (rs runs) GetRun(ctx context.Context, id string) (store.Run, error) {
	r, err := scanRun(rs.s.r.QueryRowContext(ctx, `SELECT `+runCols+` FROM workflow_runs WHERE id = $1`, id))
	return r, notFound(err)
}

// runWhere turns f into a WHERE clause; Limit is the caller's.
func runWhere(f store.RunFilter) *where {
	w := &where{}
	if f.TenantID != "" {
		w.add("tenant_id = " + w.arg(f.TenantID))
	}
	if f.WorkflowUniqueName != "" {
		sub := "SELECT id FROM workflows WHERE unique_name = " + w.arg(f.WorkflowUniqueName)
		if f.TenantID != "" {
			sub += " AND tenant_id = " + w.arg(f.TenantID)
		}
		w.add("workflow_id IN (" + sub + ")")
	}
	if f.WorkflowID != "" {
		w.add("workflow_id = " + w.arg(f.WorkflowID))
	}
	if f.ScheduleID != "" {
		w.add("schedule_id = " + w.arg(f.ScheduleID))
	}
	if len(f.Statuses) > 0 {
		ph := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			ph[i] = w.arg(st)
		}
		w.add("status IN (" + strings.Join(ph, ", ") + ")")
	}
	if f.Before != "" {
		// An unknown cursor matches nothing (the comparison is NULL).
		w.add("(created_at, id) < (SELECT created_at, id FROM workflow_runs WHERE id = " + w.arg(f.Before) + ")")
	}
	return w
}

func (rs runs) ListRuns(ctx context.Context, f store.RunFilter) ([]store.Run, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	w := runWhere(f)
	rows, err := rs.s.r.QueryContext(ctx, `SELECT `+runCols+` FROM workflow_runs`+w.String()+
		` ORDER BY created_at DESC, id DESC LIMIT `+w.arg(limit), w.args...)
	return scanAll(rows, err, scanRun)
}

func (rs runs) CountRuns(ctx context.Context, f store.RunFilter) (int, error) {
	w := runWhere(f)
	var n int
	err := rs.s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM workflow_runs`+w.String(), w.args...).Scan(&n)
	return n, err
}

func (rs runs) UpdateRun(ctx context.Context, id string, fn func(r *store.Run) error) (store.Run, error) {
	var out store.Run
	err := rs.s.tx(ctx, func(tx *sql.Tx) error {
		r, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runCols+` FROM workflow_runs WHERE id = $1`+rs.s.forUpdate, id))
		if err != nil {
			return notFound(err)
		}
		keep := r
		if err := fn(&r); err != nil {
			return err
		}
		r.ID, r.TenantID, r.WorkflowID, r.WorkflowName, r.Version = keep.ID, keep.TenantID, keep.WorkflowID, keep.WorkflowName, keep.Version
		r.StartedBy, r.ScheduleID, r.CreatedAt = keep.StartedBy, keep.ScheduleID, keep.CreatedAt
		if _, err := tx.ExecContext(ctx, `UPDATE workflow_runs SET status = $6, token_kind = $9, token_owner = $10, target_id = $11,
			inputs = $12, outputs = $13, result_message = $14, error = $15, prompt = $16, answer = $17, answered_by = $18,
			cancel_requested = $19, owner = $20, heartbeat_at = $21, attempt = $22, started_at = $24, ended_at = $25
			WHERE id = $1 AND tenant_id = $2 AND workflow_id = $3 AND workflow_name = $4 AND version = $5
			AND started_by = $7 AND schedule_id = $8 AND created_at = $23`, runArgs(r)...); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

func (rs runs) Heartbeat(ctx context.Context, id, owner string, at time.Time) (bool, error) {
	res, err := rs.s.w.ExecContext(ctx, `UPDATE workflow_runs SET heartbeat_at = $1 WHERE id = $2 AND owner = $3 AND status IN ($4, $5)`,
		usv(at), id, owner, store.RunRunning, store.RunWaiting)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (rs runs) HeartbeatOwner(ctx context.Context, owner string, at time.Time) error {
	_, err := rs.s.w.ExecContext(ctx, `UPDATE workflow_runs SET heartbeat_at = $1 WHERE status = $2 AND owner = $3`,
		usv(at), store.RunRunning, owner)
	return err
}

func (rs runs) OwnedRuns(ctx context.Context, owner string) (map[string]bool, error) {
	rows, err := rs.s.r.QueryContext(ctx, `SELECT id, cancel_requested FROM workflow_runs WHERE status = $1 AND owner = $2`, store.RunRunning, owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		var cancel bool
		if err := rows.Scan(&id, &cancel); err != nil {
			return nil, err
		}
		out[id] = cancel
	}
	return out, rows.Err()
}

func (rs runs) StaleRuns(ctx context.Context, before time.Time, limit int) ([]store.Run, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := rs.s.r.QueryContext(ctx, `SELECT `+runCols+` FROM workflow_runs
		WHERE status = $1 AND (heartbeat_at IS NULL OR heartbeat_at < $2)
		ORDER BY COALESCE(heartbeat_at, 0), id LIMIT $3`, store.RunRunning, usv(before), limit)
	return scanAll(rows, err, scanRun)
}

const activityCols = `run_id, seq, replay_key, activity_id, type, title, status, started_at, ended_at, error, input, output`

// activityChunk is how many activities go into one INSERT. On PostgreSQL
// one statement per hundred rows instead of one per row is what keeps a
// journal flush of hundreds of activities to a few round trips (12
// parameters a row stays far below the limit). SQLite has no round trips
// but looks $N parameters up by name, in time that grows with their number,
// so there a small statement prepared once and run per chunk is fastest.
func (s *Store) activityChunk() int {
	if s.dialect == "sqlite" {
		return 8
	}
	return 100
}

// upsertActivitiesSQL is the statement that writes n activities.
func upsertActivitiesSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO workflow_run_activities (` + activityCols + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range 12 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + itoa(i*12+j+1))
		}
		b.WriteByte(')')
	}
	b.WriteString(` ON CONFLICT (run_id, seq) DO UPDATE SET replay_key = excluded.replay_key, activity_id = excluded.activity_id,
		type = excluded.type, title = excluded.title, status = excluded.status, started_at = excluded.started_at,
		ended_at = excluded.ended_at, error = excluded.error, input = excluded.input, output = excluded.output`)
	return b.String()
}

func (rs runs) PutActivities(ctx context.Context, acts []store.RunActivity) error {
	if len(acts) == 0 {
		return nil
	}
	// One statement cannot upsert the same row twice (PostgreSQL refuses);
	// the last write of a (run, seq) wins, as it would row by row.
	type rk struct {
		run string
		seq int
	}
	last := make(map[rk]int, len(acts))
	for i, a := range acts {
		last[rk{a.RunID, a.Seq}] = i
	}
	uniq := make([]store.RunActivity, 0, len(last))
	for i, a := range acts {
		if last[rk{a.RunID, a.Seq}] == i {
			uniq = append(uniq, a)
		}
	}
	chunk := rs.s.activityChunk()
	return rs.s.tx(ctx, func(tx *sql.Tx) error {
		var full *sql.Stmt // the statement of a whole chunk, prepared once
		defer func() {
			if full != nil {
				_ = full.Close()
			}
		}()
		args := make([]any, 0, chunk*12)
		for len(uniq) > 0 {
			n := min(len(uniq), chunk)
			args = args[:0]
			for _, a := range uniq[:n] {
				args = append(args, a.RunID, a.Seq, a.Key, a.ActivityID, a.Type, a.Title, a.Status, usv(a.StartedAt), us(a.EndedAt),
					a.Error, blob(a.Input), blob(a.Output))
			}
			var err error
			switch {
			case n < chunk:
				_, err = tx.ExecContext(ctx, upsertActivitiesSQL(n), args...)
			case full == nil:
				if full, err = tx.PrepareContext(ctx, upsertActivitiesSQL(chunk)); err != nil {
					return err
				}
				fallthrough
			default:
				_, err = full.ExecContext(ctx, args...)
			}
			if err != nil {
				return notFoundFK(conflictOr(err))
			}
			uniq = uniq[n:]
		}
		return nil
	})
}

func (rs runs) ListActivities(ctx context.Context, runID string) ([]store.RunActivity, error) {
	rows, err := rs.s.r.QueryContext(ctx, `SELECT `+activityCols+` FROM workflow_run_activities WHERE run_id = $1 ORDER BY seq`, runID)
	return scanAll(rows, err, func(row scanner) (store.RunActivity, error) {
		var a store.RunActivity
		var started int64
		var ended sql.NullInt64
		err := row.Scan(&a.RunID, &a.Seq, &a.Key, &a.ActivityID, &a.Type, &a.Title, &a.Status, &started, &ended, &a.Error, &a.Input, &a.Output)
		a.StartedAt, a.EndedAt = fromUSv(started), fromUS(ended)
		return a, err
	})
}
