package workflow

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/grantflow/grantflow/internal/store"
)

// reseal moves the values the workflow engine sealed with Automation's
// vault to the current key during `grantflow keys rotate`: secure variables'
// values, the sealed inputs of runs that have not ended (a waiting or
// resumed run opens them again), and schedules' inputs.
func (s *Service) reseal(ctx context.Context, old func(string) bool, reseal func(ctx context.Context, sealed, ad string) (string, error)) (int, error) {
	tenants, err := s.st.Automation().ListTenants(ctx, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range tenants {
		ws, err := s.wfs.ListWorkflows(ctx, t.ID)
		if err != nil {
			return n, err
		}
		for _, w := range ws {
			secrets, err := s.wfs.WorkflowSecrets(ctx, t.ID, w.UniqueName)
			if err != nil {
				return n, err
			}
			for _, sc := range secrets {
				if !old(string(sc.Sealed)) {
					continue
				}
				box, err := reseal(ctx, string(sc.Sealed), secretAD(t.ID, sc.UniqueName, sc.VariableID))
				if err != nil {
					return n, err
				}
				sc.Sealed, sc.UpdatedAt = []byte(box), s.now()
				if err := s.wfs.PutWorkflowSecret(ctx, sc); err != nil {
					return n, err
				}
				n++
			}
		}
		runs, err := s.runs.ListRuns(ctx, store.RunFilter{TenantID: t.ID, Limit: 100000,
			Statuses: []string{store.RunQueued, store.RunRunning, store.RunWaiting}})
		if err != nil {
			return n, err
		}
		for _, r := range runs {
			m, err := s.resealRunInputs(ctx, r, old, reseal)
			n += m
			if err != nil {
				return n, err
			}
		}
		m, err := s.resealScheduleInputs(ctx, t.ID, old, reseal)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *Service) resealRunInputs(ctx context.Context, r store.Run, old func(string) bool, reseal func(ctx context.Context, sealed, ad string) (string, error)) (int, error) {
	n := 0
	_, err := s.runs.UpdateRun(ctx, r.ID, func(cur *store.Run) error {
		n = 0
		var in map[string]json.RawMessage
		if len(cur.Inputs) == 0 {
			return nil
		}
		if err := json.Unmarshal(cur.Inputs, &in); err != nil {
			return nil //nolint:nilerr // inputs that are not an object hold nothing sealed
		}
		for id, raw := range in {
			var si sealedInput
			if json.Unmarshal(raw, &si) != nil || si.Sealed == "" || !old(si.Sealed) {
				continue
			}
			box, err := reseal(ctx, si.Sealed, inputAD(cur.ID, id))
			if err != nil {
				return err
			}
			in[id], _ = json.Marshal(sealedInput{Sealed: box})
			n++
		}
		cur.Inputs, _ = json.Marshal(in)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return n, err
}

func (s *Service) resealScheduleInputs(ctx context.Context, tenantID string, old func(string) bool, reseal func(ctx context.Context, sealed, ad string) (string, error)) (int, error) {
	ss, err := s.scheduleStore()
	if err != nil {
		return 0, nil //nolint:nilerr // a store without schedules has nothing to re-seal
	}
	list, err := ss.ListSchedules(ctx, store.ScheduleFilter{TenantID: tenantID})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sc := range list {
		var si scheduleInputs
		if len(sc.Inputs) == 0 || json.Unmarshal(sc.Inputs, &si) != nil || si.Sealed == "" || !old(si.Sealed) {
			continue
		}
		box, err := reseal(ctx, si.Sealed, scheduleInputsAD(sc.ID))
		if err != nil {
			return n, err
		}
		si.Sealed = box
		if _, err := ss.UpdateSchedule(ctx, sc.ID, func(x *store.Schedule) error {
			x.Inputs, _ = json.Marshal(si)
			return nil
		}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}
