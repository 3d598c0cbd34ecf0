package automation

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
)

// The Meraki - Current Org target.
const (
	TargetName = "Meraki - Current Org"
	TargetType = "meraki.endpoint"
)

// What created a target: the three cases of Cisco's documentation.
const (
	TriggerFirstVisit    = "first_visit"
	TriggerTenantCreated = "tenant_created"
	TriggerSync          = "sync"
)

// ErrForbidden: the person may not do this in this tenant.
var ErrForbidden = errors.New("automation: not allowed")

// EnsureTenant returns orgID's tenant, creating it if there is none
// (implicitly on a first visit, or by the CLI and the JSON API). Creating a
// Meraki tenant with the CLI or the API sets the flag on an existing one.
// A Meraki tenant gets its Current Org target at once, with trigger as the
// reason.
func (s *Service) EnsureTenant(ctx context.Context, orgID string, meraki bool, trigger, actor string) (store.Tenant, error) {
	t, err := s.auto.GetTenantByOrg(ctx, orgID)
	if errors.Is(err, store.ErrNotFound) {
		t = store.Tenant{ID: newID("ten_"), OrgID: orgID, Meraki: meraki, CreatedBy: actor, CreatedAt: s.now()}
		err = s.auto.CreateTenant(ctx, t)
		switch {
		case err == nil:
			s.record(ctx, store.AuditEvent{Action: "automation.tenant_created", ActorAccountID: actor, OrgID: orgID, Target: t.ID,
				Details: map[string]string{"tenant": t.ID, "meraki": strconv.FormatBool(meraki), "trigger": trigger}})
		case errors.Is(err, store.ErrConflict):
			t, err = s.auto.GetTenantByOrg(ctx, orgID) // a racing creator won
		}
	}
	if err != nil {
		return store.Tenant{}, fmt.Errorf("automation: tenant of organization %s: %w", orgID, err)
	}
	// Opening Automation creates a Meraki tenant but leaves the flag of one
	// an operator made without it; creating with the flag sets it.
	if meraki && !t.Meraki && trigger != TriggerFirstVisit {
		if err := s.auto.SetTenantMeraki(ctx, t.ID, true); err != nil {
			return store.Tenant{}, err
		}
		t.Meraki = true
		s.record(ctx, store.AuditEvent{Action: "automation.tenant_updated", ActorAccountID: actor, OrgID: orgID, Target: t.ID,
			Details: map[string]string{"tenant": t.ID, "meraki": "true"}})
	}
	if t.Meraki {
		if _, _, err := s.EnsureTarget(ctx, t, trigger); err != nil {
			return store.Tenant{}, err
		}
	}
	return t, nil
}

// desiredTarget is the Current Org target as configuration says it should be.
func (s *Service) desiredTarget(tenantID string) (store.Target, error) {
	u, err := url.Parse(s.cfg.APIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return store.Target{}, fmt.Errorf("automation: API URL %q must be an http(s) URL", s.cfg.APIURL)
	}
	port := 443
	if u.Scheme == "http" {
		port = 80
	}
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	now := s.now()
	return store.Target{
		TenantID: tenantID, Name: TargetName, Type: TargetType,
		Protocol: u.Scheme, Host: u.Hostname(), Port: port, BasePath: strings.TrimRight(u.EscapedPath(), "/"),
		MetadataVersion: s.cfg.MetadataVersion, CreatedAt: now, UpdatedAt: now, SyncedAt: now,
	}, nil
}

// EnsureTarget returns the tenant's Current Org target, creating it if it
// is missing. It is idempotent across triggers, retries and replicas: the
// store's unique (tenant, name) key lets one insert win, and the others
// read the winner's row. created reports whether this call created it.
func (s *Service) EnsureTarget(ctx context.Context, t store.Tenant, trigger string) (tg store.Target, created bool, err error) {
	tg, err = s.auto.GetTargetByName(ctx, t.ID, TargetName)
	if err == nil {
		return tg, false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return tg, false, err
	}
	want, err := s.desiredTarget(t.ID)
	if err != nil {
		return tg, false, err
	}
	want.ID, want.CreatedTrigger = newID("tgt_"), trigger
	err = s.auto.CreateTarget(ctx, want)
	if errors.Is(err, store.ErrConflict) {
		tg, err = s.auto.GetTargetByName(ctx, t.ID, TargetName)
		return tg, false, err
	}
	if err != nil {
		return tg, false, fmt.Errorf("automation: create target: %w", err)
	}
	s.record(ctx, store.AuditEvent{Action: "automation.target_created", OrgID: t.OrgID, Target: want.ID,
		Details: map[string]string{"tenant": t.ID, "trigger": trigger, "host": want.Host, "metadata_version": want.MetadataVersion}})
	return want, true, nil
}

// TargetURL is the base URL workflows call through tg.
func TargetURL(tg store.Target) string {
	host := tg.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	defaultPort := (tg.Protocol == "https" && tg.Port == 443) || (tg.Protocol == "http" && tg.Port == 80)
	if !defaultPort {
		host = net.JoinHostPort(tg.Host, strconv.Itoa(tg.Port))
	}
	return tg.Protocol + "://" + host + tg.BasePath
}

// SyncResult counts what a sync did.
type SyncResult struct {
	Created, Updated, Unchanged int
}

// Sync is the scheduled sync: it creates the missing Current Org target of
// every Meraki tenant, and updates every target whose metadata version or
// endpoint differs from the configuration, recording each change in the
// audit log. Nobody has to act.
func (s *Service) Sync(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	tenants, err := s.auto.ListTenants(ctx, "")
	if err != nil {
		return res, err
	}
	var errs []error
	for _, t := range tenants {
		if !t.Meraki {
			continue
		}
		tg, created, err := s.EnsureTarget(ctx, t, TriggerSync)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if created {
			res.Created++
			continue
		}
		want, err := s.desiredTarget(t.ID)
		if err != nil {
			return res, err
		}
		var changes map[string]string
		_, err = s.auto.UpdateTarget(ctx, tg.ID, func(x *store.Target) error {
			changes = map[string]string{}
			diff := func(name, from, to string) {
				if from != to {
					changes[name+"_from"], changes[name+"_to"] = from, to
				}
			}
			diff("metadata_version", x.MetadataVersion, want.MetadataVersion)
			diff("protocol", x.Protocol, want.Protocol)
			diff("host", x.Host, want.Host)
			diff("port", strconv.Itoa(x.Port), strconv.Itoa(want.Port))
			diff("base_path", x.BasePath, want.BasePath)
			x.MetadataVersion, x.Protocol, x.Host, x.Port, x.BasePath = want.MetadataVersion, want.Protocol, want.Host, want.Port, want.BasePath
			if len(changes) > 0 {
				x.UpdatedAt = want.UpdatedAt
			}
			x.SyncedAt = want.SyncedAt
			return nil
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(changes) == 0 {
			res.Unchanged++
			continue
		}
		res.Updated++
		changes["tenant"] = t.ID
		s.record(ctx, store.AuditEvent{Action: "automation.target_updated", OrgID: t.OrgID, Target: tg.ID, Details: changes})
	}
	if n, err := s.auto.DeleteExpiredAuthStates(ctx, s.now()); err == nil && n > 0 {
		s.lg.DebugContext(ctx, "deleted expired automation states", "count", n)
	}
	return res, errors.Join(errs...)
}

// Tenant returns tenant id.
func (s *Service) Tenant(ctx context.Context, id string) (store.Tenant, error) {
	return s.auto.GetTenant(ctx, id)
}

// --- roles ---

// DefaultRole is a member's role when no tenant admin set one: full access
// makes a tenant_admin, read-only a viewer.
func DefaultRole(access store.Access) store.Role {
	if access == store.AccessFull {
		return store.RoleTenantAdmin
	}
	return store.RoleViewer
}

// EffectiveRole is a member's role: the one set for them, or the default.
// tenant_admin (which runs schedules on the org-scoped token) needs full
// access: a read-only admin holding it is a viewer.
func EffectiveRole(access store.Access, set store.Role) store.Role {
	r := set
	if r == "" {
		r = DefaultRole(access)
	}
	if r == store.RoleTenantAdmin && access != store.AccessFull {
		return store.RoleViewer
	}
	return r
}

// Member is an organization admin with their role in the tenant.
type Member struct {
	Account store.Account
	Access  store.Access
	Role    store.Role
	Set     bool // the role was set by a tenant admin
}

// Members lists the tenant's organization admins with their roles.
func (s *Service) Members(ctx context.Context, t store.Tenant) ([]Member, error) {
	ms, err := s.st.Accounts().ListOrgMembers(ctx, t.OrgID)
	if err != nil {
		return nil, err
	}
	roles, err := s.auto.ListRoles(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	set := map[string]store.Role{}
	for _, r := range roles {
		set[r.AccountID] = r.Role
	}
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		r, ok := set[m.AccountID]
		out = append(out, Member{Account: m.Account, Access: m.Access, Role: EffectiveRole(m.Access, r), Set: ok})
	}
	return out, nil
}

// RoleOf returns accountID's membership and role in t; ErrForbidden when
// the account is not an admin of t's organization.
func (s *Service) RoleOf(ctx context.Context, t store.Tenant, accountID string) (store.Membership, store.Role, error) {
	m, err := s.st.Accounts().GetMembership(ctx, t.OrgID, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return m, "", ErrForbidden
	}
	if err != nil {
		return m, "", err
	}
	roles, err := s.auto.ListRoles(ctx, t.ID)
	if err != nil {
		return m, "", err
	}
	var set store.Role
	for _, r := range roles {
		if r.AccountID == accountID {
			set = r.Role
		}
	}
	return m, EffectiveRole(m.Access, set), nil
}

// SetRole lets a tenant admin (actor; "" for an operator at the command
// line) set another member's role. A read-only
// admin cannot be made tenant_admin, and the tenant keeps at least one.
func (s *Service) SetRole(ctx context.Context, t store.Tenant, actor, accountID string, role store.Role) error {
	if !role.Valid() {
		return fmt.Errorf("%w: unknown role %q", ErrInvalid, role)
	}
	if actor != "" { // "": an operator at the command line
		if _, r, err := s.RoleOf(ctx, t, actor); err != nil || r != store.RoleTenantAdmin {
			if err != nil && !errors.Is(err, ErrForbidden) {
				return err
			}
			return ErrForbidden
		}
	}
	members, err := s.Members(ctx, t)
	if err != nil {
		return err
	}
	admins, found := 0, false
	var target Member
	for _, m := range members {
		if m.Role == store.RoleTenantAdmin {
			admins++
		}
		if m.Account.ID == accountID {
			target, found = m, true
		}
	}
	if !found {
		return fmt.Errorf("%w: that account is not an administrator of this organization", ErrInvalid)
	}
	if role == store.RoleTenantAdmin && target.Access != store.AccessFull {
		return fmt.Errorf("%w: tenant_admin runs scheduled workflows with the org-scoped token and needs full organization access", ErrInvalid)
	}
	if target.Role == store.RoleTenantAdmin && role != store.RoleTenantAdmin && admins <= 1 {
		return fmt.Errorf("%w: the tenant must keep at least one tenant_admin", ErrInvalid)
	}
	if err := s.auto.PutRole(ctx, store.TenantRole{TenantID: t.ID, AccountID: accountID, Role: role, UpdatedBy: actor, UpdatedAt: s.now()}); err != nil {
		return err
	}
	s.record(ctx, store.AuditEvent{Action: "automation.role_changed", ActorAccountID: actor, OrgID: t.OrgID, Target: target.Account.Email,
		Details: map[string]string{"tenant": t.ID, "from": string(target.Role), "to": string(role)}})
	return nil
}

// ErrInvalid wraps a refusal whose message can be shown as it is.
var ErrInvalid = errors.New("automation")
