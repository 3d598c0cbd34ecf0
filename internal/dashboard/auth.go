package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/grantflow/grantflow/internal/authz"
	"github.com/grantflow/grantflow/internal/dashboard/catalog"
	"github.com/grantflow/grantflow/internal/store"
)

// TokenValidator checks OAuth access tokens. authz.Validator implements
// it: cached and revocation-aware. It returns authz.ErrInvalidToken for a
// bad, expired or revoked token (answered 401) and any other error when it
// could not decide (logged, answered 500).
type TokenValidator interface {
	Validate(ctx context.Context, raw string) (store.AccessToken, error)
}

// caller is who makes an API request.
type caller struct {
	accountID string
	// OAuth: the integration, its token's organization and scopes.
	clientID string
	tokenOrg string
	scopes   []string
	// tokenAccess is the granting person's current access to tokenOrg
	// (full for org-bound grants).
	tokenAccess store.Access
	// API key: the key's id and the account's organizations.
	keyID  string
	access map[string]store.Access
}

func (c *caller) oauth() bool { return c.clientID != "" }

// canSee returns the caller's access to org.
func (c *caller) canSee(org string) (store.Access, bool) {
	if c.oauth() {
		// Only full administrators can grant (FACTS.md); the grant's scopes
		// then decide what the token may do, within the grantor's access now.
		return c.tokenAccess, org == c.tokenOrg
	}
	a, ok := c.access[org]
	return a, ok
}

// orgs returns the organizations the caller may see.
func (c *caller) orgs() []string {
	if c.oauth() {
		return []string{c.tokenOrg}
	}
	out := make([]string, 0, len(c.access))
	for o := range c.access {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

var (
	// Meraki answers a missing or unknown key alike.
	errBadAPIKey = &apiError{status: http.StatusUnauthorized, msgs: []string{"Invalid API key"}}
	errBadToken  = &apiError{status: http.StatusUnauthorized, msgs: []string{"Invalid access token"}}
)

// credential extracts the API key or bearer token of r.
func credential(r *http.Request) string {
	if k := r.Header.Get("X-Cisco-Meraki-API-Key"); k != "" {
		return strings.TrimSpace(k)
	}
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "Bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// authenticate identifies the caller of r. API keys (40 hex characters)
// are checked by the key service; everything else is an OAuth access
// token for the validator.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (*caller, error) {
	raw := credential(r)
	if raw == "" {
		// RFC 6750 §3.1: no error code when no credentials were sent.
		w.Header().Set("WWW-Authenticate", `Bearer realm="Meraki Dashboard API"`)
		return nil, errBadAPIKey
	}
	ctx := r.Context()
	if LooksLikeAPIKey(raw) {
		key, err := h.keys.Lookup(ctx, raw)
		if errors.Is(err, ErrInvalidAPIKey) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="Meraki Dashboard API", error="invalid_token"`)
			return nil, errBadAPIKey
		}
		if err != nil {
			return nil, err
		}
		access, err := h.members.get(ctx, key.AccountID)
		if err != nil {
			return nil, err
		}
		return &caller{accountID: key.AccountID, keyID: key.ID, access: access}, nil
	}
	tok, err := h.validator.Validate(ctx, raw)
	if errors.Is(err, authz.ErrInvalidToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Meraki Dashboard API", error="invalid_token"`)
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	c := &caller{accountID: tok.AccountID, clientID: tok.ClientID, tokenOrg: tok.OrgID, scopes: tok.Scopes, tokenAccess: store.AccessFull}
	if !tok.OrgBound {
		// A token never has more power than the person who granted it:
		// one who left the organization has no token there any more, and
		// one downgraded to read-only makes the token read-only. Org-bound
		// grants (Automation's org-scoped token) belong to the organization.
		access, err := h.members.get(ctx, tok.AccountID)
		if err != nil {
			return nil, err
		}
		a, ok := access[tok.OrgID]
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="Meraki Dashboard API", error="invalid_token"`)
			return nil, errBadToken
		}
		c.tokenAccess = a
	}
	return c, nil
}

// openToAnyToken are the operations with no scope in the catalog that any
// valid OAuth token may still call (for its own organization): every
// integration needs them (FACTS.md).
var openToAnyToken = map[string]bool{"getOrganizations": true, "getAdministeredIdentitiesMe": true}

// authorize checks the operation against the caller's scopes (OAuth) or
// access level (API key).
func authorize(c *caller, op *catalog.Operation) error {
	if !c.oauth() {
		return nil // per-organization access is checked once the org is known
	}
	if len(op.Scopes) == 0 {
		if openToAnyToken[op.ID] {
			return nil
		}
		return errorf(http.StatusForbidden, "Incorrect OAuth scopes. The required scopes are: []")
	}
	// The catalog names one scope per operation; should it name several,
	// any one of them suffices (they are alternatives, as in Meraki's docs).
	for _, s := range op.Scopes {
		if slices.Contains(c.scopes, s) {
			return nil
		}
	}
	return errorf(http.StatusForbidden, "Incorrect OAuth scopes. The required scopes are: [%s]", strings.Join(op.Scopes, ", "))
}

// members caches API key holders' and token grantors' organization memberships by account,
// dropped on the change feed's store.ChangeMembership changes. Without a
// feed every request reads the store.
type members struct {
	accounts  store.Accounts
	byAccount *dropCache[string, map[string]store.Access]
}

func newMembers(accounts store.Accounts, feed Feed) *members {
	m := &members{accounts: accounts, byAccount: newDropCache[string, map[string]store.Access](feed != nil)}
	if feed != nil {
		feed.Subscribe(store.ChangeMembership, func(key string) {
			// key is "orgID/accountID"
			_, account, _ := strings.Cut(key, "/")
			m.drop(account)
		})
	}
	return m
}

func (m *members) drop(accountID string) { m.byAccount.drop(accountID) }

// get returns accountID's access by organization.
func (m *members) get(ctx context.Context, accountID string) (map[string]store.Access, error) {
	return m.byAccount.get(accountID, func() (map[string]store.Access, error) {
		ms, err := m.accounts.ListAccountMemberships(ctx, accountID)
		if err != nil {
			return nil, fmt.Errorf("dashboard: read memberships: %w", err)
		}
		a := make(map[string]store.Access, len(ms))
		for _, x := range ms {
			a[x.OrgID] = x.Access
		}
		return a, nil
	})
}
