package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/workflow/builtin"
	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// envRegion is the one $env variable exports use: the tenant's region.
const envRegion = "variable_01A6C871LSO9A26D0zcBjJoAKgRglrC10aG"

// parsed is a stored workflow version, parsed once and shared by its runs.
type parsed struct {
	file   *export.File
	defs   map[string]*export.Workflow
	report export.Report
}

// library holds the built-in workflows (Cisco's "Meraki - …" atomics).
type library struct {
	builtin map[string]*export.Workflow
	names   []string
}

func newLibrary(eng *engine.Engine) (*library, error) {
	l := &library{builtin: map[string]*export.Workflow{}}
	files := builtin.Files()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f, err := export.Parse(files[n])
		if err != nil {
			return nil, fmt.Errorf("workflow: built-in %s: %w", n, err)
		}
		for id, w := range f.Definitions() {
			l.builtin[id] = w
		}
		l.names = append(l.names, f.Workflow.ID)
	}
	return l, nil
}

// Builtin returns the built-in workflows (id -> definition).
func (s *Service) Builtin() map[string]*export.Workflow { return s.lib.builtin }

// parse returns a stored version parsed (cached by version id).
func (s *Service) parse(w store.Workflow) (*parsed, error) {
	if p, ok := s.defs.Load(w.ID); ok {
		return p.(*parsed), nil
	}
	f, err := export.Parse(w.Definition)
	if err != nil {
		return nil, fmt.Errorf("workflow %s version %d does not parse: %w", w.Name, w.Version, err)
	}
	p := &parsed{file: f, defs: f.Definitions()}
	if len(w.Report) > 0 {
		_ = json.Unmarshal(w.Report, &p.report)
	}
	actual, _ := s.defs.LoadOrStore(w.ID, p)
	return actual.(*parsed), nil
}

// tenantLookup finds workflows the tenant imported (the latest version of
// each, and the definitions embedded in them), then the built-in ones.
func (s *Service) tenantLookup(ctx context.Context, tenantID string, skip string) (func(id string) *export.Workflow, error) {
	ws, err := s.wfs.ListWorkflows(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	own := map[string]*export.Workflow{}
	embedded := map[string]*export.Workflow{}
	for _, w := range ws {
		if w.UniqueName == skip {
			continue
		}
		p, err := s.parse(w)
		if err != nil {
			s.lg.Warn("stored workflow does not parse", "workflow", w.ID, "err", err)
			continue
		}
		for id, d := range p.defs {
			if id == w.UniqueName {
				own[id] = d
			} else if _, ok := embedded[id]; !ok {
				embedded[id] = d
			}
		}
	}
	return func(id string) *export.Workflow {
		if w, ok := own[id]; ok {
			return w
		}
		if w, ok := embedded[id]; ok {
			return w
		}
		return s.lib.builtin[id]
	}, nil
}

func (s *Service) checkEnv(lookup func(string) *export.Workflow) export.Env {
	return export.Env{Lookup: lookup, Supported: s.eng.Supports, EnvVariables: map[string]bool{envRegion: true}}
}
