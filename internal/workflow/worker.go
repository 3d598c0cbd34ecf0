package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// MaxAttempts is how often a run is taken over after its process died
// before it is failed with the reason.
const MaxAttempts = 3

var errNotMine = errors.New("workflow: the run is not this process's to work")

// work is the River task: claim the run, execute it (resuming by replay),
// store how it ended.
func (s *Service) work(ctx context.Context, runID string, _ int) error {
	r, err := s.claim(ctx, runID)
	if errors.Is(err, errNotMine) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.execute(ctx, r)
}

// claim makes the run this process's: a queued run, or a running one
// whose process died (the sweeper re-queued it).
func (s *Service) claim(ctx context.Context, runID string) (store.Run, error) {
	return s.runs.UpdateRun(ctx, runID, func(r *store.Run) error {
		if r.Status != store.RunQueued {
			return errNotMine
		}
		if r.CancelRequested {
			r.Status, r.Error, r.EndedAt = store.RunCancelled, engine.ErrCancelled.Error(), s.now()
			return nil
		}
		r.Attempt++
		if r.Attempt > MaxAttempts {
			r.Status, r.EndedAt, r.Owner = store.RunFailed, s.now(), ""
			r.Error = fmt.Sprintf("the run was interrupted %d times (its process stopped); it was not tried again", r.Attempt-1)
			return nil
		}
		r.Status, r.Owner, r.HeartbeatAt = store.RunRunning, s.owner, s.now()
		if r.StartedAt.IsZero() {
			r.StartedAt = s.now()
		}
		return nil
	})
}

func (s *Service) execute(ctx context.Context, r store.Run) error {
	if r.Status != store.RunRunning || r.Owner != s.owner {
		return nil
	}
	run, rec, err := s.prepare(ctx, r)
	if err != nil {
		return s.finish(ctx, r, engine.Result{Status: engine.RunFailed, Error: err.Error()}, rec)
	}
	rctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	unwatch := s.watch(r.ID, cancel)
	res := s.eng.Execute(rctx, run)
	unwatch()
	return s.finish(ctx, r, res, rec)
}

// monitor is this process's watch over the runs it works: one heartbeat
// write per interval and one read a second for all of them, whatever their
// number, instead of a write and a read per run.
type monitor struct {
	mu      sync.Mutex
	runs    map[string]context.CancelCauseFunc
	running bool
}

var errTakenOver = errors.New("another process took the run over")

// watch registers a run this process works until the returned function is
// called: its heartbeat is kept, and it is cancelled when a cancel is
// requested or another process took it over.
func (s *Service) watch(runID string, cancel context.CancelCauseFunc) func() {
	m := &s.mon
	m.mu.Lock()
	if m.runs == nil {
		m.runs = map[string]context.CancelCauseFunc{}
	}
	m.runs[runID] = cancel
	if !m.running {
		m.running = true
		go s.monitor()
	}
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		delete(m.runs, runID)
		m.mu.Unlock()
	}
}

func (s *Service) monitor() {
	ctx := context.Background()
	check := min(time.Second, s.cfg.Heartbeat)
	tick := time.NewTicker(check)
	defer tick.Stop()
	lastBeat := time.Now()
	for range tick.C {
		s.mon.mu.Lock()
		if len(s.mon.runs) == 0 {
			s.mon.running = false
			s.mon.mu.Unlock()
			return
		}
		watched := make(map[string]context.CancelCauseFunc, len(s.mon.runs))
		for id, c := range s.mon.runs {
			watched[id] = c
		}
		s.mon.mu.Unlock()
		if time.Since(lastBeat) >= s.cfg.Heartbeat-check/2 {
			if err := s.runs.HeartbeatOwner(ctx, s.owner, s.now()); err != nil {
				s.lg.Warn("workflow heartbeat failed", "err", err)
			}
			lastBeat = time.Now()
		}
		owned, err := s.runs.OwnedRuns(ctx, s.owner)
		if err != nil {
			s.lg.Warn("reading this process's runs failed", "err", err)
			continue
		}
		for id, cancel := range watched {
			switch requested, mine := owned[id]; {
			case !mine:
				// Ended in the meantime (finish has not unwatched yet) or
				// taken over: either way nothing more to do for it here.
				cancel(errTakenOver)
			case requested:
				cancel(engine.ErrCancelled)
			}
		}
	}
}

// finish stores a run's end (or its wait).
func (s *Service) finish(ctx context.Context, r store.Run, res engine.Result, rec *recorder) error {
	if rec != nil {
		if err := rec.flush(ctx); err != nil {
			s.lg.Error("recording a run's activities failed", "run", r.ID, "err", err)
		}
	}
	outputs := map[string]any{}
	for k, v := range res.Outputs {
		outputs[k] = v
	}
	if rec != nil {
		for k, v := range outputs {
			outputs[k] = rec.mask(v)
		}
		res.Message, res.Error = rec.maskString(res.Message), rec.maskString(res.Error)
	}
	out, _ := json.Marshal(outputs)
	var prompt []byte
	if res.Prompt != nil {
		prompt, _ = json.Marshal(res.Prompt)
	}
	_, err := s.runs.UpdateRun(context.WithoutCancel(ctx), r.ID, func(cur *store.Run) error {
		if cur.Owner != s.owner || cur.Status != store.RunRunning {
			return errNotMine
		}
		cur.Outputs, cur.ResultMessage, cur.Error, cur.Owner = out, res.Message, res.Error, ""
		switch res.Status {
		case engine.RunWaiting:
			cur.Status, cur.Prompt = store.RunWaiting, prompt
		default:
			cur.Status, cur.EndedAt, cur.Prompt = res.Status, s.now(), nil
		}
		return nil
	})
	if errors.Is(err, errNotMine) {
		return nil
	}
	if err != nil {
		return err
	}
	return nil
}

// prepare builds the engine run: definitions, inputs (secure ones
// unsealed), target and token, the journal of earlier attempts, and an
// answered prompt turned into its activity's result.
func (s *Service) prepare(ctx context.Context, r store.Run) (*engine.Run, *recorder, error) {
	w, err := s.wfs.GetWorkflow(ctx, r.WorkflowID)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.tenant(ctx, r.TenantID)
	if err != nil {
		return nil, nil, err
	}
	pw, err := s.parse(w)
	if err != nil {
		return nil, nil, err
	}
	lookup, err := s.runLookup(ctx, t.ID, pw)
	if err != nil {
		return nil, nil, err
	}
	rec := &recorder{s: s, runID: r.ID, last: time.Now()}
	inputs := map[string]any{}
	var raw map[string]json.RawMessage
	if len(r.Inputs) > 0 {
		if err := json.Unmarshal(r.Inputs, &raw); err != nil {
			return nil, rec, err
		}
	}
	for k, v := range raw {
		var si sealedInput
		if json.Unmarshal(v, &si) == nil && si.Sealed != "" {
			plain, err := s.auto.Vault().Open(ctx, si.Sealed, inputAD(r.ID, k))
			if err != nil {
				return nil, rec, fmt.Errorf("a secure input cannot be opened: %w", err)
			}
			inputs[k] = string(plain)
			rec.secret(string(plain))
			continue
		}
		var val any
		_ = json.Unmarshal(v, &val)
		inputs[k] = export.Normalize(val)
	}
	secrets, err := s.wfs.WorkflowSecrets(ctx, t.ID, w.UniqueName)
	if err != nil {
		return nil, rec, err
	}
	for _, sc := range secrets {
		plain, err := s.auto.Vault().Open(ctx, string(sc.Sealed), secretAD(t.ID, w.UniqueName, sc.VariableID))
		if err != nil {
			return nil, rec, fmt.Errorf("the value of a secure variable cannot be opened: %w", err)
		}
		rec.secret(string(plain))
		if _, given := inputs[sc.VariableID]; !given {
			inputs[sc.VariableID] = string(plain)
		}
	}
	run := &engine.Run{ID: r.ID, Workflow: pw.file.Workflow, Library: lookup, Inputs: inputs, Recorder: rec,
		Env: map[string]any{envRegion: s.cfg.Region}, StartTime: r.CreatedAt, Globals: globals(pw.file)}
	if r.StartedBy != "" {
		if a, err := s.st.Accounts().GetAccount(ctx, r.StartedBy); err == nil {
			run.StartedBy = a.Email
		}
	}
	if r.TargetID != "" {
		tg, err := s.st.Automation().GetTarget(ctx, r.TargetID)
		if err != nil {
			return nil, rec, fmt.Errorf("the run's target: %w", err)
		}
		run.Target = s.engineTarget(t, tg, r)
	}
	run.Targets = func(id string) (*engine.Target, error) {
		tgs, err := s.st.Automation().ListTargets(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		for _, tg := range tgs {
			if tg.ExternalID == id || tg.ID == id {
				return s.engineTarget(t, tg, r), nil
			}
		}
		return nil, fmt.Errorf("the tenant has no target %s (import the export that defines it)", id)
	}
	// A workflow with a fixed target (an imported web-service target) runs
	// on it.
	if run.Target == nil {
		if id, _ := pw.file.Workflow.Target["target_id"].(string); id != "" {
			tg, err := run.Targets(id)
			if err != nil {
				return nil, rec, err
			}
			run.Target = tg
		}
	}
	// The journal: what earlier attempts did.
	// A first attempt has nothing to replay (every later one, a resumed
	// prompt included, counts up).
	var acts []store.RunActivity
	if r.Attempt > 1 || len(r.Answer) > 0 {
		if acts, err = s.runs.ListActivities(ctx, r.ID); err != nil {
			return nil, rec, err
		}
	}
	run.Journal = make(map[string]*engine.Record, len(acts))
	for _, a := range acts {
		er := &engine.Record{Seq: a.Seq, Key: a.Key, ActivityID: a.ActivityID, Type: a.Type, Title: a.Title, Status: a.Status,
			StartedAt: a.StartedAt, EndedAt: a.EndedAt, Error: a.Error}
		if len(a.Output) > 0 {
			var out map[string]any
			_ = json.Unmarshal(a.Output, &out)
			if m, ok := export.Normalize(out).(map[string]any); ok {
				er.Output = m
			}
		}
		run.Journal[a.Key] = er
		run.Seq = max(run.Seq, a.Seq)
	}
	rec.next = run.Seq
	if len(r.Answer) > 0 && len(r.Prompt) > 0 {
		if err := s.applyAnswer(ctx, r, run, rec); err != nil {
			return nil, rec, err
		}
	}
	return run, rec, nil
}

// applyAnswer turns the waiting prompt activity's record into its result,
// so that the replay takes it.
func (s *Service) applyAnswer(ctx context.Context, r store.Run, run *engine.Run, rec *recorder) error {
	var p engine.Prompt
	if err := json.Unmarshal(r.Prompt, &p); err != nil {
		return err
	}
	var answer map[string]any
	if err := json.Unmarshal(r.Answer, &answer); err != nil {
		return err
	}
	er, ok := run.Journal[p.Key]
	if !ok {
		return fmt.Errorf("the prompt's activity %s is not in the run's record", p.Key)
	}
	er.Status, er.EndedAt = engine.StatusSucceeded, s.now()
	out := map[string]any{"prompt_response": answer, "succeeded": true, "start_time": er.StartedAt.UTC().Format(time.RFC3339Nano), "end_time": er.EndedAt.UTC().Format(time.RFC3339Nano)}
	if by, err := s.st.Accounts().GetAccount(ctx, r.AnsweredBy); err == nil {
		out["answered_by"] = by.Email
	}
	er.Output = out
	if err := rec.Ended(er); err != nil {
		return err
	}
	_, err := s.runs.UpdateRun(ctx, r.ID, func(cur *store.Run) error {
		cur.Answer, cur.Prompt = nil, nil
		return nil
	})
	return err
}

func globals(f *export.File) map[string]any {
	out := map[string]any{}
	for id, v := range f.Variables {
		m, _ := v.(map[string]any)
		props, _ := m["properties"].(map[string]any)
		out[id] = props["value"]
	}
	return out
}

// engineTarget is a stored target as the engine calls it: the Meraki
// target with the run's token (fetched, and refreshed, for each request).
func (s *Service) engineTarget(t store.Tenant, tg store.Target, r store.Run) *engine.Target {
	et := &engine.Target{ID: tg.ID, Name: tg.Name, Type: tg.Type}
	if tg.Type == automation.TargetType {
		et.BaseURL = automation.TargetURL(tg)
		ref := keeper.Ref{TenantID: t.ID, Kind: store.TokenKind(r.TokenKind), AccountID: r.TokenOwner}
		et.Authorize = func(ctx context.Context, req *http.Request) error {
			acc, err := s.auto.Keeper.AccessToken(ctx, ref)
			if err != nil {
				return tokenError(ref.Kind, err)
			}
			req.Header.Set("Authorization", "Bearer "+acc.Token)
			return nil
		}
		return et
	}
	base := tg.Protocol + "://" + tg.Host
	defaultPort := tg.Port == 0 || (tg.Protocol == "https" && tg.Port == 443) || (tg.Protocol == "http" && tg.Port == 80)
	if !defaultPort {
		base += ":" + strconv.Itoa(tg.Port)
	}
	et.BaseURL = strings.TrimRight(base+"/"+strings.TrimLeft(tg.BasePath, "/"), "/")
	return et
}

// Sweep re-queues runs whose process died (no heartbeat for six
// intervals), to be resumed by replay in any process.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	stale, err := s.runs.StaleRuns(ctx, s.now().Add(-6*s.cfg.Heartbeat), 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range stale {
		cut := s.now().Add(-6 * s.cfg.Heartbeat)
		_, err := s.runs.UpdateRun(ctx, r.ID, func(cur *store.Run) error {
			if cur.Status != store.RunRunning || cur.HeartbeatAt.After(cut) {
				return errNotMine
			}
			cur.Status, cur.Owner = store.RunQueued, ""
			return nil
		})
		if errors.Is(err, errNotMine) {
			continue
		}
		if err != nil {
			return n, err
		}
		s.lg.Warn("a run's process stopped; the run is resumed", "run", r.ID, "owner", r.Owner)
		if err := s.enqueue(ctx, r.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// recorder writes a run's activity records: effects at once (the run goes
// on only when they are durable), the rest in batches.
type recorder struct {
	s     *Service
	runID string
	next  int

	mu      sync.Mutex
	pending map[int]store.RunActivity
	last    time.Time
	secrets []string
	count   int
	timers  map[int]*time.Timer // repeatable effects not yet shown
	flushMu sync.Mutex
}

// maxRecords bounds the records kept of pure activities in one run (a
// 50,000-iteration loop); effects are always kept (the replay needs them).
const maxRecords = 10_000

func (rc *recorder) secret(v string) {
	if len(v) >= 4 {
		rc.secrets = append(rc.secrets, v)
	}
}

func (rc *recorder) maskString(s string) string {
	for _, sec := range rc.secrets {
		s = strings.ReplaceAll(s, sec, export.Mask)
	}
	return s
}

func (rc *recorder) mask(v any) any {
	if len(rc.secrets) == 0 {
		return v
	}
	switch x := v.(type) {
	case string:
		return rc.maskString(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = rc.mask(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = rc.mask(e)
		}
		return out
	}
	return v
}

func (rc *recorder) row(r *engine.Record) store.RunActivity {
	a := store.RunActivity{RunID: rc.runID, Seq: r.Seq, Key: r.Key, ActivityID: r.ActivityID, Type: r.Type, Title: r.Title,
		Status: r.Status, StartedAt: store.Micro(r.StartedAt), Error: rc.maskString(r.Error)}
	if !r.EndedAt.IsZero() {
		a.EndedAt = store.Micro(r.EndedAt)
	}
	if r.Input != nil {
		a.Input, _ = json.Marshal(rc.mask(r.Input))
	}
	if r.Output != nil {
		a.Output, _ = json.Marshal(rc.mask(r.Output))
	}
	return a
}

// Started records an execution's start. An effect that may not simply run
// again is written at once, so that a replay after a crash knows it was in
// flight; everything else waits for the next write.
func (rc *recorder) Started(r *engine.Record) {
	rc.queue(r)
	switch {
	case r.Effect && !r.Repeatable:
		if err := rc.flush(context.Background()); err != nil {
			rc.s.lg.Error("recording an activity's start failed", "run", rc.runID, "err", err)
		}
	case r.Effect:
		// A quick GET shows up when it ends; a slow one (or a sleep) is
		// shown running on the run page once it has taken a moment.
		seq := r.Seq
		t := time.AfterFunc(slowEffect, func() {
			rc.mu.Lock()
			_, pending := rc.pending[seq]
			rc.mu.Unlock()
			if pending {
				_ = rc.flush(context.Background())
			}
		})
		rc.mu.Lock()
		if rc.timers == nil {
			rc.timers = map[int]*time.Timer{}
		}
		rc.timers[seq] = t
		rc.mu.Unlock()
	}
}

// slowEffect is how long a repeatable effect runs before its start is
// written for the run page.
const slowEffect = 200 * time.Millisecond

// Ended records an execution's end: an effect's at once (the run goes on
// only when it is durable), together with what is pending; the rest in
// batches (200 records or a second), and at the run's end.
func (rc *recorder) Ended(r *engine.Record) error {
	rc.queue(r)
	rc.mu.Lock()
	if t, ok := rc.timers[r.Seq]; ok {
		t.Stop()
		delete(rc.timers, r.Seq)
	}
	due := r.Effect || len(rc.pending) >= 200 || time.Since(rc.last) > time.Second
	rc.mu.Unlock()
	if due {
		return rc.flush(context.Background())
	}
	return nil
}

func (rc *recorder) queue(r *engine.Record) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.pending == nil {
		rc.pending = map[int]store.RunActivity{}
	}
	if _, ok := rc.pending[r.Seq]; !ok {
		rc.count++
		if rc.count > maxRecords {
			return
		}
	}
	rc.pending[r.Seq] = rc.row(r)
}

func (rc *recorder) flush(ctx context.Context) error {
	// Writes happen in the order their snapshots were taken, so a slow
	// effect's "running" row never lands after its end.
	rc.flushMu.Lock()
	defer rc.flushMu.Unlock()
	rc.mu.Lock()
	rows := make([]store.RunActivity, 0, len(rc.pending))
	for _, a := range rc.pending {
		rows = append(rows, a)
	}
	rc.pending = nil
	rc.last = time.Now()
	rc.mu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	return rc.s.runs.PutActivities(context.WithoutCancel(ctx), rows)
}
