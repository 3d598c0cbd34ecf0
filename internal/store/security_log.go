package store

import (
	"context"
	"time"
)

// SecurityEvent is one line of an account's own security log: a login, a
// failed login, a password change, sessions ended. It is kept apart from
// the organization audit log, which would otherwise fill up with logins.
type SecurityEvent struct {
	ID        int64
	AccountID string
	At        time.Time
	Action    string // e.g. "login.succeeded", "login.failed"
	IP        string
	UserAgent string
	Detail    string // a short plain reason, e.g. "wrong password"
}

// SecurityFilter selects one account's security events, newest first.
type SecurityFilter struct {
	AccountID string
	BeforeID  int64 // 0 for the newest
	Limit     int   // 0 means 50
}

// SecurityLog stores the per-account security log.
type SecurityLog interface {
	AppendSecurityEvent(ctx context.Context, e SecurityEvent) error
	ListSecurityEvents(ctx context.Context, f SecurityFilter) ([]SecurityEvent, error)
}
