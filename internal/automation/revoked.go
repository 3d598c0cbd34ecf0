package automation

import (
	"context"
	"errors"
	"time"

	"github.com/grantflow/grantflow/internal/authz"
	"github.com/grantflow/grantflow/internal/store"
)

// ReasonRemoved is the reason shown on a token whose grant an administrator
// removed on Organization > Integrations. Such a token is not re-issued
// silently on the next visit, which would undo the removal: its owner (or,
// for the Org-scoped token, a tenant_admin) presses Reconnect.
const ReasonRemoved = "revoked: an administrator removed grantflow Automation on Organization > Integrations"

// removed reports whether t was revoked by an administrator's removal.
func removed(t store.AutomationToken) bool {
	return t.State == store.TokenReconnectNeeded && t.Reason == ReasonRemoved
}

// grantChanged follows a grant change on the change feed (the key is the
// grant id). With grantflow's own authorization server, a revoked grant
// behind one of Automation's tokens marks that token reconnect_needed at
// once, instead of when its next refresh fails. This reads the grant from
// the shared store: a notification, not a token operation, which still go
// over HTTP.
func (s *Service) grantChanged(grantID string) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.followGrant(ctx, grantID); err != nil {
			s.lg.Warn("automation: following a grant revocation failed", "grant", grantID, "err", err)
		}
	}()
}

func (s *Service) followGrant(ctx context.Context, grantID string) error {
	g, err := s.st.Grants().GetGrant(ctx, grantID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// A live grant's change is a rotation or a revoked branch, which the
	// keeper handles; Automation's own revocations (re-issue, delete)
	// are followed where they are made.
	if !g.Revoked() || g.RevokeReason == authz.RevokeReasonClient {
		return nil
	}
	t, err := s.auto.GetTenantByOrg(ctx, g.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	toks, err := s.auto.ListTokens(ctx, store.TokenFilter{TenantID: t.ID})
	if err != nil {
		return err
	}
	reason := "revoked at the authorization server (" + g.RevokeReason + ")"
	if g.RevokeReason == authz.RevokeReasonRemoved {
		reason = ReasonRemoved
	}
	var errs []error
	for _, tok := range toks {
		if tok.State != store.TokenValid || tok.ClientID != g.ClientID || tok.Issuer != s.cfg.Issuer || tok.RefreshHash == "" {
			continue
		}
		// The token's current refresh token says which grant it is on.
		_, tg, err := s.st.Grants().GetRefreshToken(ctx, tok.RefreshHash)
		if errors.Is(err, store.ErrNotFound) || (err == nil && tg.ID != g.ID) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := s.Keeper.GrantRevoked(ctx, tok, reason); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
