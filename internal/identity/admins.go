package identity

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/grantflow/grantflow/internal/store"
)

// ActionAdminRemoved is recorded when an administrator is removed from an
// organization.
const ActionAdminRemoved = "admin.removed"

var (
	// ErrNotFullAdmin is returned when the acting account is not a full
	// administrator of the organization it tries to change.
	ErrNotFullAdmin = errors.New("only full administrators of this organization can change its administrators")
	// ErrLastFullAdmin is returned for a change that would leave an
	// organization without a full administrator.
	ErrLastFullAdmin = errors.New("an organization must keep at least one full administrator")
	// ErrAlreadyAdmin is returned when inviting someone who already is an
	// administrator of the organization; change their access instead.
	ErrAlreadyAdmin = errors.New("already an administrator of this organization")
	// ErrNotAdmin is returned for an account that is not an administrator
	// of the organization.
	ErrNotAdmin = errors.New("not an administrator of this organization")
)

// adminMu serializes administrator changes in this process, so two
// concurrent downgrades cannot both pass the last-full-admin check. (Two
// replicas are not serialized; see CHANGELOG.)
var adminMu sync.Mutex

// InviteParams are the arguments of [Service.InviteAdmin].
type InviteParams struct {
	OrgID   string
	ActorID string // the full administrator who invites
	Email   string
	Access  store.Access
}

// InviteResult is what [Service.InviteAdmin] did.
type InviteResult struct {
	Account store.Account // without PasswordHash
	// Password is the generated password of a new account, to be shown
	// once to the inviter; "" when the email already had an account.
	Password string
}

// requireFull returns nil when actorID is a full administrator of orgID.
func (s *Service) requireFull(ctx context.Context, orgID, actorID string) error {
	m, err := s.accounts.GetMembership(ctx, orgID, actorID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.Access != store.AccessFull) {
		return ErrNotFullAdmin
	}
	if err != nil {
		return fmt.Errorf("check access: %w", err)
	}
	return nil
}

// InviteAdmin adds the account with p.Email to p.OrgID with p.Access. An
// email without an account gets a new account with a generated password,
// returned once in [InviteResult.Password]. Someone who already is an
// administrator is [ErrAlreadyAdmin]: their access is changed with
// [Service.SetAdminAccess], never silently here.
func (s *Service) InviteAdmin(ctx context.Context, p InviteParams) (InviteResult, error) {
	if !p.Access.Valid() {
		return InviteResult{}, ErrInvalidAccess
	}
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return InviteResult{}, err
	}
	adminMu.Lock()
	defer adminMu.Unlock()
	if err := s.requireFull(ctx, p.OrgID, p.ActorID); err != nil {
		return InviteResult{}, err
	}
	var res InviteResult
	acct, err := s.accounts.GetAccountByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		res.Password = GeneratePassword()
		acct, err = s.createAccount(ctx, email, res.Password)
		if errors.Is(err, errEmailTaken) {
			res.Password = ""
			acct, err = s.accounts.GetAccountByEmail(ctx, email)
		}
		if err != nil {
			return InviteResult{}, fmt.Errorf("invite admin: %w", err)
		}
	case err != nil:
		return InviteResult{}, fmt.Errorf("invite admin: %w", err)
	}
	acct.PasswordHash = ""
	res.Account = acct
	if _, err := s.accounts.GetMembership(ctx, p.OrgID, acct.ID); err == nil {
		return InviteResult{}, fmt.Errorf("%s: %w", email, ErrAlreadyAdmin)
	} else if !errors.Is(err, store.ErrNotFound) {
		return InviteResult{}, fmt.Errorf("invite admin: %w", err)
	}
	m := store.Membership{OrgID: p.OrgID, AccountID: acct.ID, Access: p.Access, CreatedAt: store.Micro(s.now())}
	if err := s.accounts.PutMembership(ctx, m); err != nil {
		return InviteResult{}, fmt.Errorf("invite admin: %w", err)
	}
	details := map[string]string{"access": string(p.Access), "via": "dashboard", "new_account": "false"}
	if res.Password != "" {
		details["new_account"] = "true"
	}
	s.record(ctx, store.AuditEvent{Action: ActionAdminCreated, ActorAccountID: p.ActorID, OrgID: p.OrgID, Target: acct.Email, Details: details})
	return res, nil
}

// SetAdminAccess changes the access of administrator accountID of orgID.
// Only a full administrator may; the last full administrator cannot be
// made read-only ([ErrLastFullAdmin]). It reports whether anything changed.
func (s *Service) SetAdminAccess(ctx context.Context, orgID, actorID, accountID string, access store.Access) (bool, error) {
	if !access.Valid() {
		return false, ErrInvalidAccess
	}
	adminMu.Lock()
	defer adminMu.Unlock()
	if err := s.requireFull(ctx, orgID, actorID); err != nil {
		return false, err
	}
	target, old, err := s.member(ctx, orgID, accountID)
	if err != nil {
		return false, err
	}
	if old.Access == access {
		return false, nil
	}
	if old.Access == store.AccessFull {
		if err := s.keepOneFull(ctx, orgID, accountID); err != nil {
			return false, err
		}
	}
	previous := old.Access
	old.Access = access
	old.CreatedAt = store.Micro(s.now()) // the store keeps the original; this stamps the change
	if err := s.accounts.PutMembership(ctx, old); err != nil {
		return false, fmt.Errorf("set access: %w", err)
	}
	s.record(ctx, store.AuditEvent{Action: ActionAdminAccessChanged, ActorAccountID: actorID, OrgID: orgID, Target: target.Email,
		Details: map[string]string{"access": string(access), "previous_access": string(previous), "via": "dashboard"}})
	return true, nil
}

// RemoveAdmin removes administrator accountID from orgID. Only a full
// administrator may, and not the last full administrator.
func (s *Service) RemoveAdmin(ctx context.Context, orgID, actorID, accountID string) error {
	adminMu.Lock()
	defer adminMu.Unlock()
	if err := s.requireFull(ctx, orgID, actorID); err != nil {
		return err
	}
	target, old, err := s.member(ctx, orgID, accountID)
	if err != nil {
		return err
	}
	if old.Access == store.AccessFull {
		if err := s.keepOneFull(ctx, orgID, accountID); err != nil {
			return err
		}
	}
	if err := s.accounts.DeleteMembership(ctx, orgID, accountID); err != nil {
		return fmt.Errorf("remove admin: %w", err)
	}
	s.record(ctx, store.AuditEvent{Action: ActionAdminRemoved, ActorAccountID: actorID, OrgID: orgID, Target: target.Email,
		Details: map[string]string{"previous_access": string(old.Access), "via": "dashboard"}})
	return nil
}

// member returns accountID's account and membership in orgID.
func (s *Service) member(ctx context.Context, orgID, accountID string) (store.Account, store.Membership, error) {
	m, err := s.accounts.GetMembership(ctx, orgID, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, store.Membership{}, ErrNotAdmin
	}
	if err != nil {
		return store.Account{}, store.Membership{}, fmt.Errorf("get membership: %w", err)
	}
	a, err := s.accounts.GetAccount(ctx, accountID)
	if err != nil {
		return store.Account{}, store.Membership{}, fmt.Errorf("get account: %w", err)
	}
	a.PasswordHash = ""
	return a, m, nil
}

// keepOneFull returns [ErrLastFullAdmin] unless orgID has a full
// administrator other than accountID.
func (s *Service) keepOneFull(ctx context.Context, orgID, accountID string) error {
	ms, err := s.accounts.ListOrgMembers(ctx, orgID)
	if err != nil {
		return fmt.Errorf("list admins: %w", err)
	}
	for _, m := range ms {
		if m.Access == store.AccessFull && m.AccountID != accountID {
			return nil
		}
	}
	return ErrLastFullAdmin
}

// CreateOrganizationAs creates an organization named name and makes
// actorID its first full administrator. Both events name the actor.
func (s *Service) CreateOrganizationAs(ctx context.Context, actorID, name string) (store.Organization, error) {
	name, err := orgName(name)
	if err != nil {
		return store.Organization{}, err
	}
	actor, err := s.accounts.GetAccount(ctx, actorID)
	if err != nil {
		return store.Organization{}, fmt.Errorf("create organization: %w", err)
	}
	o, err := s.insertOrganization(ctx, name)
	if err != nil {
		return store.Organization{}, err
	}
	m := store.Membership{OrgID: o.ID, AccountID: actorID, Access: store.AccessFull, CreatedAt: o.CreatedAt}
	if err := s.accounts.PutMembership(ctx, m); err != nil {
		return store.Organization{}, fmt.Errorf("create organization: add creator: %w", err)
	}
	s.record(ctx, store.AuditEvent{Action: ActionOrgCreated, ActorAccountID: actorID, OrgID: o.ID, Target: o.ID, Details: map[string]string{"name": o.Name, "via": "dashboard"}})
	s.record(ctx, store.AuditEvent{Action: ActionAdminCreated, ActorAccountID: actorID, OrgID: o.ID, Target: actor.Email, Details: map[string]string{"access": string(store.AccessFull), "via": "dashboard"}})
	return o, nil
}
