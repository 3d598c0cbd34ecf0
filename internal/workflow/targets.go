package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/store"
)

// TargetView is a target as `target list` shows it.
type TargetView struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Host       string `json:"host"`
	Port       int    `json:"port"`
	Protocol   string `json:"protocol"`
	Path       string `json:"path"`
	ExternalID string `json:"external_id,omitempty"`
}

func targetView(t store.Target) TargetView {
	return TargetView{ID: t.ID, Name: t.Name, Type: t.Type, Host: t.Host, Port: t.Port, Protocol: t.Protocol, Path: t.BasePath, ExternalID: t.ExternalID}
}

// Targets lists the tenant's targets: the Current Org target and the ones
// imports brought.
func (s *Service) Targets(ctx context.Context, tenantID string, a Actor) ([]TargetView, error) {
	t, err := s.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(ctx, t, a, permRead, "see targets"); err != nil {
		return nil, err
	}
	ts, err := s.st.Automation().ListTargets(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	out := make([]TargetView, 0, len(ts))
	for _, tg := range ts {
		out = append(out, targetView(tg))
	}
	return out, nil
}

// TargetUpdate changes an imported target's endpoint (nil: unchanged).
type TargetUpdate struct {
	Host     *string `json:"host"`
	Port     *int    `json:"port"`
	Protocol *string `json:"protocol"`
	Path     *string `json:"path"`
}

// UpdateTarget edits an imported target (authors and tenant_admins). The
// Current Org target follows configuration and cannot be edited.
func (s *Service) UpdateTarget(ctx context.Context, id string, a Actor, u TargetUpdate) (TargetView, error) {
	tg, err := s.st.Automation().GetTarget(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return TargetView{}, fmt.Errorf("%w: target %s", ErrNotFound, id)
	}
	if err != nil {
		return TargetView{}, err
	}
	t, err := s.tenant(ctx, tg.TenantID)
	if err != nil {
		return TargetView{}, err
	}
	if _, err := s.authorize(ctx, t, a, permAuthor, "edit targets"); err != nil {
		return TargetView{}, err
	}
	if tg.Name == automation.TargetName && tg.ExternalID == "" {
		return TargetView{}, fmt.Errorf("%w: the %s target follows grantflow's configuration (--meraki-api-url) and cannot be edited", ErrInvalid, automation.TargetName)
	}
	var problems []string
	if u.Host != nil && (strings.TrimSpace(*u.Host) == "" || strings.ContainsAny(*u.Host, "/ ?#@")) {
		problems = append(problems, fmt.Sprintf("host %q must be a host name or address", *u.Host))
	}
	if u.Port != nil && (*u.Port < 1 || *u.Port > 65535) {
		problems = append(problems, fmt.Sprintf("port %d must be 1 to 65535", *u.Port))
	}
	if u.Protocol != nil && *u.Protocol != "http" && *u.Protocol != "https" {
		problems = append(problems, fmt.Sprintf("protocol %q must be http or https", *u.Protocol))
	}
	if u.Path != nil && *u.Path != "" && !strings.HasPrefix(*u.Path, "/") {
		problems = append(problems, fmt.Sprintf("path %q must start with /", *u.Path))
	}
	if len(problems) > 0 {
		return TargetView{}, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	out, err := s.st.Automation().UpdateTarget(ctx, id, func(t *store.Target) error {
		if u.Host != nil {
			t.Host = strings.TrimSpace(*u.Host)
		}
		if u.Port != nil {
			t.Port = *u.Port
		}
		if u.Protocol != nil {
			t.Protocol = *u.Protocol
		}
		if u.Path != nil {
			t.BasePath = *u.Path
		}
		t.UpdatedAt = s.now()
		return nil
	})
	if err != nil {
		return TargetView{}, err
	}
	s.record(ctx, store.AuditEvent{Action: "workflow.target_updated", ActorAccountID: a.id(), OrgID: t.OrgID, Target: out.ID,
		Details: map[string]string{"tenant": t.ID, "host": out.Host, "protocol": out.Protocol, "path": out.BasePath}})
	return targetView(out), nil
}
