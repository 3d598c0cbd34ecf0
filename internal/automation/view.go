package automation

import (
	"context"
	"errors"
	"time"

	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/store"
)

// TenantView is a tenant as `grantflow tenant list` and the JSON API show
// it (PRODUCT.md's shape). It never holds a token value.
type TenantView struct {
	ID      string       `json:"id"`
	OrgID   string       `json:"org_id"`
	Meraki  bool         `json:"meraki"`
	Targets []TargetView `json:"targets"`
	Tokens  []TokenView  `json:"tokens"`
}

// TargetView is a target in a [TenantView].
type TargetView struct {
	ID              string  `json:"id"`
	Name            string  `json:"name"`
	Type            string  `json:"type"`
	Host            string  `json:"host"`
	MetadataVersion string  `json:"metadata_version"`
	SyncedAt        *string `json:"synced_at"`
}

// TokenView is a token's state in a [TenantView].
type TokenView struct {
	Kind        string  `json:"kind"`
	Owner       *string `json:"owner"` // the user token's owner; null for the org token
	State       string  `json:"state"`
	ExpiresAt   *string `json:"expires_at"`   // the access token's expiry
	RefreshedAt *string `json:"refreshed_at"` // last issuance or refresh
	Reason      string  `json:"reason"`
	// CreatedBy and CreatedAt (the org token's creator) are shown by the
	// JSON API and pages, not by the CLI, whose shape is fixed.
	CreatedBy string `json:"created_by,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
}

func timeString(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// Why a missing token is missing, in words.
const (
	reasonUserMissing = "created the next time its owner opens Automation"
	reasonOrgMissing  = "created by the first full-access administrator (tenant_admin) who opens Automation"
)

// View returns t as a TenantView. With viewer set it shows the org token
// and viewer's own user token only; without (the CLI, an operator) every
// user token's state, never a value.
func (s *Service) View(ctx context.Context, t store.Tenant, viewer *store.Account) (TenantView, error) {
	v, _, err := s.view(ctx, t, viewer)
	return v, err
}

// viewRows are the rows a TenantView was made from, for the home page,
// which shows more of them than the view does: the targets, and the token
// behind each of the view's Tokens (nil where it is missing).
type viewRows struct {
	targets []store.Target
	tokens  []*store.AutomationToken
}

func (s *Service) view(ctx context.Context, t store.Tenant, viewer *store.Account) (TenantView, viewRows, error) {
	v := TenantView{ID: t.ID, OrgID: t.OrgID, Meraki: t.Meraki, Targets: []TargetView{}, Tokens: []TokenView{}}
	var rows viewRows
	add := func(tv TokenView, tok *store.AutomationToken) {
		v.Tokens = append(v.Tokens, tv)
		rows.tokens = append(rows.tokens, tok)
	}
	tgs, err := s.auto.ListTargets(ctx, t.ID)
	if err != nil {
		return v, rows, err
	}
	rows.targets = tgs
	for _, tg := range tgs {
		v.Targets = append(v.Targets, TargetView{ID: tg.ID, Name: tg.Name, Type: tg.Type, Host: tg.Host, MetadataVersion: tg.MetadataVersion, SyncedAt: timeString(tg.SyncedAt)})
	}
	emails := map[string]string{}
	email := func(id string) string {
		if e, ok := emails[id]; ok {
			return e
		}
		a, err := s.st.Accounts().GetAccount(ctx, id)
		if err != nil {
			emails[id] = ""
			return ""
		}
		emails[id] = a.Email
		return a.Email
	}
	org, err := s.auto.GetToken(ctx, t.ID, store.TokenOrg, "")
	switch {
	case errors.Is(err, store.ErrNotFound):
		add(TokenView{Kind: string(store.TokenOrg), State: store.TokenMissing, Reason: reasonOrgMissing}, nil)
	case err != nil:
		return v, rows, err
	default:
		tv := tokenView(org, nil)
		if viewer != nil {
			tv.CreatedBy, tv.CreatedAt = email(org.AccountID), org.CreatedAt.UTC().Format(time.RFC3339)
		}
		add(tv, &org)
	}
	if viewer != nil {
		own, err := s.auto.GetToken(ctx, t.ID, store.TokenUser, viewer.ID)
		e := viewer.Email
		switch {
		case errors.Is(err, store.ErrNotFound):
			add(TokenView{Kind: string(store.TokenUser), Owner: &e, State: store.TokenMissing, Reason: reasonUserMissing}, nil)
		case err != nil:
			return v, rows, err
		default:
			add(tokenView(own, &e), &own)
		}
		return v, rows, nil
	}
	users, err := s.auto.ListTokens(ctx, store.TokenFilter{TenantID: t.ID, Kind: store.TokenUser})
	if err != nil {
		return v, rows, err
	}
	for i, u := range users {
		e := email(u.AccountID)
		add(tokenView(u, &e), &users[i])
	}
	return v, rows, nil
}

func tokenView(t store.AutomationToken, owner *string) TokenView {
	tv := TokenView{Kind: string(t.Kind), Owner: owner, State: keeper.State(t), Reason: t.Reason}
	if tv.State != store.TokenReconnectNeeded {
		tv.ExpiresAt = timeString(t.AccessExpiresAt)
	}
	tv.RefreshedAt = timeString(t.RefreshedAt)
	return tv
}

// List returns every tenant (or orgID's) as the CLI shows them.
func (s *Service) List(ctx context.Context, orgID string) ([]TenantView, error) {
	ts, err := s.auto.ListTenants(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]TenantView, 0, len(ts))
	for _, t := range ts {
		v, err := s.View(ctx, t, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
