package dashboard

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
)

// adminView is Meraki's Admin object, made from a membership.
type adminView struct {
	ID                   string `json:"id"`
	Name                 string `json:"name"`
	Email                string `json:"email"`
	OrgAccess            string `json:"orgAccess"`
	AccountStatus        string `json:"accountStatus"`
	TwoFactorAuthEnabled bool   `json:"twoFactorAuthEnabled"`
	HasAPIKey            bool   `json:"hasApiKey"`
	LastActive           string `json:"lastActive"`
	Tags                 []any  `json:"tags"`
	Networks             []any  `json:"networks"`
	AuthenticationMethod string `json:"authenticationMethod"`
}

func (c *call) adminView(m store.Member) (adminView, error) {
	keys, err := c.h.keys.List(c.r.Context(), m.Account.ID)
	if err != nil {
		return adminView{}, err
	}
	status := "ok"
	if m.Account.PasswordHash == "" {
		// Created through the API: invited, no password set yet.
		status = "unverified"
	}
	return adminView{ID: m.Account.ID, Name: m.Account.Name, Email: m.Account.Email, OrgAccess: string(m.Access),
		AccountStatus: status, HasAPIKey: len(keys) > 0, LastActive: fmtTime(m.Account.UpdatedAt),
		Tags: []any{}, Networks: []any{}, AuthenticationMethod: "Email"}, nil
}

func getOrganizationAdmins(c *call) (int, any, error) {
	members, err := c.h.st.Accounts().ListOrgMembers(c.r.Context(), c.orgID)
	if err != nil {
		return 0, nil, err
	}
	out := make([]adminView, 0, len(members))
	for _, m := range members {
		v, err := c.adminView(m)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, v)
	}
	return http.StatusOK, out, nil
}

// orgAccess reads orgAccess: the sandbox's memberships are organization
// wide, so "none" (network- or tag-scoped admins) is refused.
func (c *call) orgAccess(required bool) (store.Access, bool, error) {
	s, ok, err := c.str("orgAccess")
	if err != nil {
		return "", false, err
	}
	if !ok {
		if required {
			return "", false, errorf(http.StatusBadRequest, "'orgAccess' is required")
		}
		return "", false, nil
	}
	a := store.Access(s)
	if !a.Valid() {
		return "", true, errorf(http.StatusBadRequest, "'orgAccess' must be 'full' or 'read-only' (network- and tag-scoped administrators are not supported by the sandbox)")
	}
	return a, true, nil
}

func createOrganizationAdmin(c *call) (int, any, error) {
	ctx := c.r.Context()
	email, _, err := c.str("email")
	if err != nil {
		return 0, nil, err
	}
	addr, perr := mail.ParseAddress(email)
	if perr != nil || addr.Address != strings.TrimSpace(email) {
		return 0, nil, errorf(http.StatusBadRequest, "'email' must be a valid email address")
	}
	email = strings.ToLower(addr.Address)
	name, _, err := c.str("name")
	if err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(name) == "" {
		return 0, nil, errorf(http.StatusBadRequest, "'name' is required")
	}
	access, _, err := c.orgAccess(true)
	if err != nil {
		return 0, nil, err
	}
	accounts := c.h.st.Accounts()
	acc, err := accounts.GetAccountByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// An invited account: no password, so nobody can log in as it
		// until `grantflow admin create` or a password reset sets one.
		now := store.Micro(c.now)
		acc = store.Account{Email: email, Name: strings.TrimSpace(name), CreatedAt: now, UpdatedAt: now}
		for range 10 {
			acc.ID = digits(randUint64(), 12)
			if err = accounts.CreateAccount(ctx, acc); !errors.Is(err, store.ErrConflict) {
				break
			}
			if _, gerr := accounts.GetAccountByEmail(ctx, email); gerr == nil {
				return 0, nil, errorf(http.StatusConflict, "Email was taken concurrently; retry")
			}
		}
		if err != nil {
			return 0, nil, err
		}
	case err != nil:
		return 0, nil, err
	default:
		if _, err := accounts.GetMembership(ctx, c.orgID, acc.ID); err == nil {
			return 0, nil, errorf(http.StatusBadRequest, "Email has already been taken")
		} else if !errors.Is(err, store.ErrNotFound) {
			return 0, nil, err
		}
	}
	m := store.Membership{OrgID: c.orgID, AccountID: acc.ID, Access: access, CreatedAt: store.Micro(c.now)}
	if err := accounts.PutMembership(ctx, m); err != nil {
		return 0, nil, err
	}
	c.h.members.drop(acc.ID)
	c.h.record(c, "admin.created", acc.Email, map[string]string{"access": string(access)})
	v, err := c.adminView(store.Member{Membership: m, Account: acc})
	return http.StatusCreated, v, err
}

// member loads the path's adminId as a member of the organization.
func (c *call) member() (store.Member, error) {
	ctx := c.r.Context()
	id := c.params.Get("adminId")
	m, err := c.h.st.Accounts().GetMembership(ctx, c.orgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Member{}, errNotFound
	}
	if err != nil {
		return store.Member{}, err
	}
	acc, err := c.h.st.Accounts().GetAccount(ctx, id)
	if err != nil {
		return store.Member{}, err
	}
	return store.Member{Membership: m, Account: acc}, nil
}

// updateOrganizationAdmin changes an administrator's access. Names belong
// to the person's account and are not changed through one organization.
func updateOrganizationAdmin(c *call) (int, any, error) {
	m, err := c.member()
	if err != nil {
		return 0, nil, err
	}
	access, ok, err := c.orgAccess(false)
	if err != nil {
		return 0, nil, err
	}
	if _, _, err := c.str("name"); err != nil {
		return 0, nil, err
	}
	if ok && access != m.Access {
		if m.AccountID == c.caller.accountID {
			return 0, nil, errorf(http.StatusBadRequest, "You cannot change your own access")
		}
		prev := m.Access
		m.Access = access
		if err := c.h.st.Accounts().PutMembership(c.r.Context(), m.Membership); err != nil {
			return 0, nil, err
		}
		c.h.members.drop(m.AccountID)
		c.h.record(c, "admin.access_changed", m.Account.Email, map[string]string{"access": string(access), "previous_access": string(prev)})
	}
	v, err := c.adminView(m)
	return http.StatusOK, v, err
}

// deleteOrganizationAdmin removes the administrator from the organization
// and revokes every grant they made for it.
func deleteOrganizationAdmin(c *call) (int, any, error) {
	ctx := c.r.Context()
	m, err := c.member()
	if err != nil {
		return 0, nil, err
	}
	if m.AccountID == c.caller.accountID {
		return 0, nil, errorf(http.StatusBadRequest, "You cannot remove yourself")
	}
	if err := c.h.st.Accounts().DeleteMembership(ctx, c.orgID, m.AccountID); err != nil {
		return 0, nil, err
	}
	c.h.members.drop(m.AccountID)
	if _, err := c.h.st.Grants().RevokeAccountOrgGrants(ctx, m.AccountID, c.orgID, "admin_removed", c.now); err != nil {
		return 0, nil, err
	}
	c.h.record(c, "admin.removed", m.Account.Email, nil)
	return http.StatusNoContent, nil, nil
}
