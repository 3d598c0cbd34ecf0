package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/grantflow/grantflow/internal/store"
)

// Actions recorded only in an account's security log (the login and
// password actions above are recorded there too).
const (
	ActionPasswordChangeFailed = "password.change_failed"
	ActionSessionsEnded        = "sessions.ended"
)

// maxUserAgent bounds the User-Agent kept with a session or a security event.
const maxUserAgent = 256

// source is where a login or an account change came from.
type source struct {
	IP, UserAgent string
}

func userAgent(r *http.Request) string {
	return truncate(r.UserAgent(), maxUserAgent)
}

// recordSecurity appends to accountID's security log. A failure is logged
// and otherwise ignored: it must not stop a login.
func (s *Service) recordSecurity(ctx context.Context, accountID, action string, src source, detail string) {
	if s.security == nil {
		return
	}
	err := s.security.AppendSecurityEvent(ctx, store.SecurityEvent{
		AccountID: accountID, At: store.Micro(s.now()), Action: action,
		IP: src.IP, UserAgent: src.UserAgent, Detail: detail,
	})
	if err != nil {
		s.lg.ErrorContext(ctx, "security log append failed", "account", accountID, "action", action, "err", err)
	}
}

// changePassword replaces the password of accountID after checking its
// current one, and ends every session of the account but keepIDHash (the
// browser that asked): whoever else knew the old password may hold one. A
// wrong current password is [ErrInvalidCredentials]. The caller has checked
// next against [CheckPasswordPolicy].
func (s *Service) changePassword(ctx context.Context, accountID, current, next, keepIDHash string, src source) error {
	acct, err := s.accounts.GetAccount(ctx, accountID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	ok, verr := s.verify(ctx, acct.PasswordHash, current)
	if verr != nil {
		s.lg.ErrorContext(ctx, "stored password hash unreadable", "account", acct.ID, "err", verr)
	}
	if !ok {
		s.recordSecurity(ctx, acct.ID, ActionPasswordChangeFailed, src, "wrong current password")
		return ErrInvalidCredentials
	}
	hash, err := s.hash(ctx, next)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := s.accounts.SetPasswordHash(ctx, acct.ID, hash, store.Micro(s.now())); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	n, err := s.sessions.DeleteOtherSessions(ctx, acct.ID, keepIDHash)
	if err != nil {
		return fmt.Errorf("change password: end sessions: %w", err)
	}
	details := map[string]string{"account_id": acct.ID, "via": "account page", "sessions_ended": fmt.Sprint(n)}
	if src.IP != "" {
		details["ip"] = src.IP
	}
	s.record(ctx, store.AuditEvent{Action: ActionPasswordChanged, ActorAccountID: acct.ID, Target: acct.Email, Details: details})
	s.recordSecurity(ctx, acct.ID, ActionPasswordChanged, src, fmt.Sprintf("%d other session%s ended", n, plural(int(n))))
	return nil
}

// securityEvents returns a page of accountID's security log, newest first,
// and the id to pass as before for the next (older) page, 0 if none.
func (s *Service) securityEvents(ctx context.Context, accountID string, before int64, limit int) ([]store.SecurityEvent, int64, error) {
	if s.security == nil {
		return nil, 0, errors.New("security log: no store")
	}
	evs, err := s.security.ListSecurityEvents(ctx, store.SecurityFilter{AccountID: accountID, BeforeID: before, Limit: limit + 1})
	if err != nil {
		return nil, 0, fmt.Errorf("security log: %w", err)
	}
	var older int64
	if len(evs) > limit {
		evs = evs[:limit]
		older = evs[limit-1].ID
	}
	return evs, older, nil
}
