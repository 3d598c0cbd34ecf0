package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/grantflow/grantflow/internal/store"
)

type workflows struct{ s *Store }

// Workflows returns the imported workflows and their secure values.
func (s *Store) Workflows() store.Workflows { return workflows{s} }

const workflowCols = `id, tenant_id, unique_name, name, version, atomic, definition, runnable, report, imported_by, created_at`

func scanWorkflow(row scanner) (store.Workflow, error) {
	var w store.Workflow
	var created int64
	err := row.Scan(&w.ID, &w.TenantID, &w.UniqueName, &w.Name, &w.Version, &w.Atomic, &w.Definition, &w.Runnable, &w.Report,
		&w.ImportedBy, &created)
	w.CreatedAt = fromUSv(created)
	return w, err
}

// blob passes a nil slice as NULL, so that nil reads back as nil on both
// backends (SQLite would store an empty blob).
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// versionRetries bounds how often CreateWorkflowVersion retries after
// losing the race for a version number; each loss means another import
// committed, so the bound is the number of concurrent importers.
const versionRetries = 64

// CreateWorkflowVersion computes the version in the INSERT itself. On
// SQLite the single writer makes that atomic; on PostgreSQL two racing
// inserts can compute the same number, the unique index on (tenant_id,
// unique_name, version) rejects the later one and it tries again. No lock
// is taken, so imports never wait on each other or on the tenant row.
func (wf workflows) CreateWorkflowVersion(ctx context.Context, w store.Workflow) (store.Workflow, error) {
	if w.ID == "" || w.TenantID == "" || w.UniqueName == "" {
		return store.Workflow{}, errors.New("sqlstore: a workflow needs an id, a tenant and a unique name")
	}
	for range versionRetries {
		err := wf.s.w.QueryRowContext(ctx, `INSERT INTO workflows (`+workflowCols+`)
			SELECT $1, $2, $3, $4, COALESCE(MAX(version), 0) + 1, $5, $6, $7, $8, $9, $10
			FROM workflows WHERE tenant_id = $2 AND unique_name = $3
			RETURNING version`,
			w.ID, w.TenantID, w.UniqueName, w.Name, w.Atomic, blob(w.Definition), w.Runnable, blob(w.Report), w.ImportedBy, usv(w.CreatedAt)).
			Scan(&w.Version)
		if err == nil {
			w.CreatedAt = store.Micro(w.CreatedAt)
			return w, nil
		}
		if !isUnique(err) {
			return store.Workflow{}, notFoundFK(err)
		}
		// Lost the race for the version, or the id is taken.
		if _, gerr := wf.GetWorkflow(ctx, w.ID); gerr == nil {
			return store.Workflow{}, fmt.Errorf("%w: workflow %s exists", store.ErrConflict, w.ID)
		} else if !errors.Is(gerr, store.ErrNotFound) {
			return store.Workflow{}, gerr
		}
		if ctx.Err() != nil {
			return store.Workflow{}, ctx.Err()
		}
	}
	return store.Workflow{}, fmt.Errorf("sqlstore: no free version for %s after %d tries", w.UniqueName, versionRetries)
}

func (wf workflows) GetWorkflow(ctx context.Context, id string) (store.Workflow, error) {
	w, err := scanWorkflow(wf.s.r.QueryRowContext(ctx, `SELECT `+workflowCols+` FROM workflows WHERE id = $1`, id))
	return w, notFound(err)
}

func (wf workflows) LatestWorkflow(ctx context.Context, tenantID, uniqueName string) (store.Workflow, error) {
	w, err := scanWorkflow(wf.s.r.QueryRowContext(ctx, `SELECT `+workflowCols+` FROM workflows
		WHERE tenant_id = $1 AND unique_name = $2 ORDER BY version DESC LIMIT 1`, tenantID, uniqueName))
	return w, notFound(err)
}

func (wf workflows) ListWorkflows(ctx context.Context, tenantID string) ([]store.Workflow, error) {
	rows, err := wf.s.r.QueryContext(ctx, `SELECT `+workflowCols+` FROM workflows w
		WHERE tenant_id = $1 AND version = (SELECT MAX(version) FROM workflows v WHERE v.tenant_id = w.tenant_id AND v.unique_name = w.unique_name)
		ORDER BY name, unique_name`, tenantID)
	return scanAll(rows, err, scanWorkflow)
}

func (wf workflows) UpdateWorkflowReport(ctx context.Context, id string, runnable bool, report []byte) error {
	res, err := wf.s.w.ExecContext(ctx, `UPDATE workflows SET runnable = $1, report = $2 WHERE id = $3`, runnable, blob(report), id)
	return affected(res, err)
}

func (wf workflows) PutWorkflowSecret(ctx context.Context, s store.WorkflowSecret) error {
	if s.Sealed == nil {
		s.Sealed = []byte{}
	}
	_, err := wf.s.w.ExecContext(ctx, `INSERT INTO workflow_secrets (tenant_id, unique_name, variable_id, sealed, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, unique_name, variable_id) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
		s.TenantID, s.UniqueName, s.VariableID, s.Sealed, usv(s.UpdatedAt))
	return notFoundFK(err)
}

func (wf workflows) WorkflowSecrets(ctx context.Context, tenantID, uniqueName string) ([]store.WorkflowSecret, error) {
	rows, err := wf.s.r.QueryContext(ctx, `SELECT tenant_id, unique_name, variable_id, sealed, updated_at FROM workflow_secrets
		WHERE tenant_id = $1 AND unique_name = $2 ORDER BY variable_id`, tenantID, uniqueName)
	return scanAll(rows, err, func(row scanner) (store.WorkflowSecret, error) {
		var s store.WorkflowSecret
		var updated int64
		err := row.Scan(&s.TenantID, &s.UniqueName, &s.VariableID, &s.Sealed, &updated)
		s.UpdatedAt = fromUSv(updated)
		return s, err
	})
}

// scanAll reads every row with scan.
func scanAll[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
