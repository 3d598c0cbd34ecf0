// Package keeper looks after Automation's OAuth 2.0 tokens so that nobody
// has to: it hands out valid access tokens, refreshing them (RFC 6749 §6)
// when they expire within a margin, with rotating refresh tokens (RFC 9700
// §4.14.2) that must never be lost.
//
//   - Exactly one refresh per token at a time, across every process sharing
//     the store: a lease row taken with a conditional UPDATE; the others
//     wait, then re-read the token the winner saved.
//   - Crash safety: the refresh is recorded as in flight before the refresh
//     token is presented. A process killed mid-refresh leaves that record;
//     the next one presents the same refresh token again, which the
//     authorization server accepts within Automation's grace window, and
//     the chain goes on. If it cannot, the token is marked reconnect_needed
//     with the reason; it is never left silently broken.
//   - Revocation is detected (invalid_grant from the server) and marked;
//     with grantflow's own server the change feed reports it at once.
//   - A user token never does more than its owner may: it is narrowed to
//     read scopes when the owner is read-only and revoked (RFC 7009) when
//     the owner leaves the organization.
//
// Values are sealed by package vault, bound to their tenant, kind and owner.
package keeper

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/automation/vault"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
)

// Fault points a test can stop a refresh at (see [Keeper.Faults]).
const (
	FaultAfterMarkInFlight = "after_mark_in_flight"
	FaultAfterResponse     = "after_token_response_before_save"
	FaultAfterSave         = "after_save"
)

var (
	// ErrMissing: the token does not exist (never issued, or deleted).
	ErrMissing = errors.New("keeper: token missing")
	// errLostLease: another process took the lease (ours ran out).
	errLostLease = errors.New("keeper: refresh lease lost")
)

// ReconnectError says the token cannot be used until it is issued again.
type ReconnectError struct{ Reason string }

func (e *ReconnectError) Error() string { return "keeper: reconnect needed: " + e.Reason }

// IsReconnect reports whether err is a [ReconnectError].
func IsReconnect(err error) bool {
	var re *ReconnectError
	return errors.As(err, &re)
}

// Ref names one token: a user token by (tenant, owner), the org token by tenant.
type Ref struct {
	TenantID  string
	Kind      store.TokenKind
	AccountID string // the user token's owner; ignored for the org token
}

// Access is a usable access token.
type Access struct {
	Token     string
	ExpiresAt time.Time
	Scopes    []string
	TenantID  string
	OrgID     string
	Kind      store.TokenKind
}

// Config configures a [Keeper].
type Config struct {
	Tokens   store.AutomationTokens
	Accounts store.Accounts
	Vault    *vault.Vault
	AS       *AS
	Audit    *audit.Recorder
	Log      *slog.Logger
	Now      func() time.Time
	// Margin: an access token expiring within it is refreshed before use.
	Margin time.Duration // default 5m
	// LeaseTTL bounds how long a refresh may hold the lease; a process that
	// dies holding it blocks the token this long. Keep it well below the
	// client's refresh grace window (60s) and above the HTTP timeout.
	LeaseTTL time.Duration // default 30s
	// Poll is how often a waiting process re-reads the token.
	Poll time.Duration // default 25ms
	// MaxAttempts of one interrupted refresh before giving up.
	MaxAttempts int // default 5
}

// Keeper hands out access tokens. It is safe for concurrent use.
type Keeper struct {
	cfg    Config
	holder string // this keeper's lease identity

	// Faults, when set (tests only), is called at each named point of a
	// refresh; a test stops the process there (SIGKILL) to check recovery.
	Faults func(point string)

	mu      sync.Mutex
	flights map[string]*flight // one refresh per token per process
}

type flight struct {
	done chan struct{}
	err  error
}

// New returns a Keeper.
func New(cfg Config) *Keeper {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Margin == 0 {
		cfg.Margin = 5 * time.Minute
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = 30 * time.Second
	}
	if cfg.Poll == 0 {
		cfg.Poll = 25 * time.Millisecond
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return &Keeper{cfg: cfg, holder: hex.EncodeToString(b), flights: map[string]*flight{}}
}

// AD is the associated data a token's values are sealed with: a value
// copied into another tenant's, kind's or person's row does not open.
func AD(t store.AutomationToken, field string) string {
	return vault.AD("automation token", t.TenantID, string(t.Kind), t.AccountID, field)
}

func (k *Keeper) get(ctx context.Context, ref Ref) (store.AutomationToken, error) {
	t, err := k.cfg.Tokens.GetToken(ctx, ref.TenantID, ref.Kind, ref.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return t, ErrMissing
	}
	return t, err
}

// AccessToken returns a valid access token for ref, refreshing it first if
// it expires within the margin. Every use of the org token is audited.
func (k *Keeper) AccessToken(ctx context.Context, ref Ref) (Access, error) {
	return k.access(ctx, ref, time.Time{})
}

// Refresh refreshes ref's token now even if its access token is still
// valid (the keep-alive); a refresh another process made since
// notBefore counts.
func (k *Keeper) Refresh(ctx context.Context, ref Ref) error {
	_, err := k.access(ctx, ref, store.Micro(k.cfg.Now()))
	return err
}

func (k *Keeper) access(ctx context.Context, ref Ref, force time.Time) (Access, error) {
	for round := 0; ; round++ {
		t, err := k.get(ctx, ref)
		if err != nil {
			return Access{}, err
		}
		if t.State == store.TokenReconnectNeeded {
			return Access{}, &ReconnectError{Reason: t.Reason}
		}
		allowed, err := k.allowed(ctx, t)
		if err != nil {
			return Access{}, err
		}
		if force.IsZero() || t.RefreshedAt.After(force) || t.RefreshedAt.Equal(force) {
			if k.fresh(t, allowed) {
				if !force.IsZero() {
					return Access{}, nil
				}
				return k.use(ctx, t)
			}
		}
		if round >= 3 && t.InflightHash == "" && t.AccessSealed != "" && k.cfg.Now().Before(t.AccessExpiresAt) &&
			scope.Subset(t.AccessScopes, allowed) {
			// Refreshed, but the server gives lifetimes shorter than the
			// margin: use what there is rather than refresh in a loop (never
			// an access token wider than the owner may use now).
			return k.use(ctx, t)
		}
		if round >= 6 {
			return Access{}, errors.New("keeper: no usable access token after several refreshes")
		}
		err = k.refreshOnce(ctx, t, allowed, force)
		if err != nil {
			return Access{}, err
		}
		// Loop: re-read what the refresh saved (here or elsewhere).
	}
}

// fresh reports whether t's access token can be used as it is.
func (k *Keeper) fresh(t store.AutomationToken, allowed []string) bool {
	return t.InflightHash == "" && t.AccessSealed != "" &&
		k.cfg.Now().Add(k.cfg.Margin).Before(t.AccessExpiresAt) &&
		scope.Subset(t.AccessScopes, allowed)
}

// allowed returns the scopes t may use now: the org token's are fixed at
// creation; a user token's follow its owner's access to the organization.
// An owner who left the organization has the token revoked.
func (k *Keeper) allowed(ctx context.Context, t store.AutomationToken) ([]string, error) {
	if t.Kind == store.TokenOrg {
		return t.Scopes, nil
	}
	m, err := k.cfg.Accounts.GetMembership(ctx, t.OrgID, t.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, k.OwnerLeft(ctx, t)
	}
	if err != nil {
		return nil, fmt.Errorf("keeper: read membership: %w", err)
	}
	return AllowedScopes(t.Scopes, m.Access), nil
}

// AllowedScopes is what of granted an administrator with access may use.
func AllowedScopes(granted []string, access store.Access) []string {
	if access == store.AccessFull {
		return granted
	}
	return scope.ReadOnly(granted)
}

// use opens the access token and records the use.
func (k *Keeper) use(ctx context.Context, t store.AutomationToken) (Access, error) {
	raw, err := k.cfg.Vault.Open(ctx, t.AccessSealed, AD(t, "access"))
	if err != nil {
		return Access{}, k.markReconnect(ctx, t, "the stored token cannot be decrypted here (wrong key, or a value copied from another row)", err)
	}
	now := k.cfg.Now()
	if now.Sub(t.LastUsedAt) > time.Minute {
		// Throttled: a busy token must not cost a write per use.
		if _, err := k.cfg.Tokens.UpdateToken(ctx, t.ID, func(x *store.AutomationToken) error {
			x.LastUsedAt = store.Micro(now)
			return nil
		}); err != nil {
			k.cfg.Log.WarnContext(ctx, "recording token use failed", "tenant", t.TenantID, "kind", t.Kind, "err", err)
		}
	}
	if t.Kind == store.TokenOrg {
		k.record(ctx, t, "automation.token_used", nil)
	}
	return Access{Token: string(raw), ExpiresAt: t.AccessExpiresAt, Scopes: t.AccessScopes, TenantID: t.TenantID, OrgID: t.OrgID, Kind: t.Kind}, nil
}

// refreshOnce makes sure one refresh of t happens in this process at a
// time: the others wait for it and then re-read.
func (k *Keeper) refreshOnce(ctx context.Context, t store.AutomationToken, allowed []string, force time.Time) error {
	k.mu.Lock()
	if f, ok := k.flights[t.ID]; ok {
		k.mu.Unlock()
		select {
		case <-f.done:
			return f.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	k.flights[t.ID] = f
	k.mu.Unlock()

	f.err = k.refreshLeased(ctx, t.ID, allowed, force)
	k.mu.Lock()
	delete(k.flights, t.ID)
	k.mu.Unlock()
	close(f.done)
	return f.err
}

// reread reads token id again and tells whether this refresh is no longer
// needed: another holder refreshed it since force, or it needs a new
// authorization, which no refresh gives. A deleted token is ErrMissing.
func (k *Keeper) reread(ctx context.Context, id string, allowed []string, force time.Time) (store.AutomationToken, bool, error) {
	t, err := k.cfg.Tokens.GetTokenByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return t, false, ErrMissing
	}
	if err != nil {
		return t, false, err
	}
	return t, t.State == store.TokenReconnectNeeded || (k.fresh(t, allowed) && !t.RefreshedAt.Before(force)), nil
}

// refreshLeased takes the store lease (waiting while another process holds
// it, then re-reading), and refreshes if the token still needs it.
func (k *Keeper) refreshLeased(ctx context.Context, id string, allowed []string, force time.Time) error {
	waitUntil := time.Now().Add(2 * k.cfg.LeaseTTL)
	for {
		now := k.cfg.Now()
		ok, err := k.cfg.Tokens.AcquireLease(ctx, id, k.holder, now, now.Add(k.cfg.LeaseTTL))
		if err != nil {
			return fmt.Errorf("keeper: take refresh lease: %w", err)
		}
		if ok {
			break
		}
		// Another process is refreshing: wait for its result.
		if time.Now().After(waitUntil) {
			return errors.New("keeper: another process holds the refresh lease too long")
		}
		select {
		case <-time.After(k.cfg.Poll):
		case <-ctx.Done():
			return ctx.Err()
		}
		if _, done, err := k.reread(ctx, id, allowed, force); err != nil || done {
			return err // when done, the caller re-reads it
		}
	}
	defer func() {
		if err := k.cfg.Tokens.ReleaseLease(context.WithoutCancel(ctx), id, k.holder); err != nil {
			k.cfg.Log.WarnContext(ctx, "releasing refresh lease failed; it expires by itself", "err", err)
		}
	}()
	// Re-read under the lease: the previous holder may have just saved.
	t, done, err := k.reread(ctx, id, allowed, force)
	if err != nil || done {
		return err
	}
	err = k.refresh(ctx, t, allowed)
	if errors.Is(err, errLostLease) {
		return nil // the new holder finishes the job; re-read
	}
	return err
}

// refresh presents t's refresh token and saves the new pair. The caller
// holds the lease.
func (k *Keeper) refresh(ctx context.Context, t store.AutomationToken, allowed []string) error {
	recovering := t.InflightHash != "" && t.InflightHash == t.RefreshHash
	interruptedAt := t.InflightAt
	if recovering && t.InflightAttempts >= k.cfg.MaxAttempts {
		return k.markReconnect(ctx, t, fmt.Sprintf("a refresh interrupted at %s failed %d times", interruptedAt.Format(time.RFC3339), t.InflightAttempts), nil)
	}
	raw, err := k.cfg.Vault.Open(ctx, t.RefreshSealed, AD(t, "refresh"))
	if err != nil {
		return k.markReconnect(ctx, t, "the stored token cannot be decrypted here (wrong key, or a value copied from another row)", err)
	}
	// A user token whose owner lost write access asks for no more than the
	// owner's read scopes; the next visit replaces it with a narrower grant.
	var ask []string
	if !scope.Subset(t.Scopes, allowed) {
		if len(allowed) == 0 {
			return k.markReconnect(ctx, t, "the owner's access no longer allows any of this token's scopes", nil)
		}
		ask = allowed
	}

	// Record the refresh as in flight before presenting the token.
	now := store.Micro(k.cfg.Now())
	t, err = k.cfg.Tokens.UpdateToken(ctx, t.ID, func(x *store.AutomationToken) error {
		if x.LeaseHolder != k.holder {
			return errLostLease
		}
		if x.RefreshHash != t.RefreshHash {
			return errLostLease // somebody else moved the chain on
		}
		if x.InflightHash != x.RefreshHash {
			x.InflightAttempts = 0
		}
		x.InflightHash, x.InflightAttempts, x.InflightAt = x.RefreshHash, x.InflightAttempts+1, now
		return nil
	})
	if err != nil {
		return err
	}
	k.fault(FaultAfterMarkInFlight)

	resp, err := k.cfg.AS.Refresh(ctx, string(raw), ask)
	k.fault(FaultAfterResponse)
	if err != nil {
		if IsInvalidGrant(err) {
			reason := "the authorization server refused the refresh token (invalid_grant): it was revoked, or went unused for 90 days"
			if recovering {
				reason = fmt.Sprintf("a refresh interrupted at %s could not be completed: the authorization server refused the refresh token (invalid_grant), the grace window for a retry had passed", interruptedAt.Format(time.RFC3339))
			}
			return k.markReconnect(ctx, t, reason, err)
		}
		// The attempt may or may not have reached the server: the in-flight
		// record stays, and the next attempt presents the same token. The
		// server gave no verdict on the token (it is down or unreachable),
		// so this is not an interrupted attempt: it does not count towards
		// MaxAttempts, or an outage would retire tokens that are still good.
		if transient(err) {
			k.uncount(context.WithoutCancel(ctx), t)
		}
		return fmt.Errorf("keeper: refresh: %w", err)
	}

	newRefresh := resp.RefreshToken
	if newRefresh == "" {
		newRefresh = string(raw) // the server did not rotate it
	}
	sealedR, err := k.cfg.Vault.Seal(ctx, []byte(newRefresh), AD(t, "refresh"))
	if err != nil {
		return err
	}
	sealedA, err := k.cfg.Vault.Seal(ctx, []byte(resp.AccessToken), AD(t, "access"))
	if err != nil {
		return err
	}
	granted := resp.Scopes(ask)
	if granted == nil {
		granted = t.Scopes
	}
	// A server that ignores the narrower scope asked for must not hand a
	// downgraded owner's runs an access token with write scopes: keep the
	// rotated refresh token (the chain), not that access token.
	overScoped := ask != nil && !scope.Subset(granted, allowed)
	now = store.Micro(k.cfg.Now())
	_, err = k.cfg.Tokens.UpdateToken(ctx, t.ID, func(x *store.AutomationToken) error {
		if x.LeaseHolder != k.holder {
			return errLostLease
		}
		x.RefreshSealed, x.RefreshHash = sealedR, oauth.Hash(newRefresh)
		x.AccessSealed, x.AccessScopes = sealedA, granted
		x.AccessExpiresAt = now.Add(time.Duration(resp.ExpiresIn) * time.Second)
		if overScoped {
			x.AccessSealed, x.AccessScopes, x.AccessExpiresAt = "", nil, time.Time{}
		}
		x.RefreshedAt = now
		x.InflightHash, x.InflightAttempts, x.InflightAt = "", 0, time.Time{}
		x.State, x.Reason = store.TokenValid, ""
		return nil
	})
	if err != nil {
		if errors.Is(err, errLostLease) {
			k.cfg.Log.WarnContext(ctx, "refresh finished after the lease ran out; the new holder's result wins", "tenant", t.TenantID, "kind", t.Kind)
		}
		return err
	}
	k.fault(FaultAfterSave)
	details := map[string]string{}
	if recovering {
		details["recovered"] = "true"
		details["attempt"] = strconv.Itoa(t.InflightAttempts)
	}
	if ask != nil {
		details["narrowed_to"] = scope.Format(ask)
	}
	k.record(ctx, t, "automation.token_refreshed", details)
	if overScoped {
		return fmt.Errorf("keeper: the authorization server granted %q, more than the owner may use now (%q); the token is re-issued on the owner's next visit", scope.Format(granted), scope.Format(allowed))
	}
	return nil
}

// transient reports whether a refresh failed without a verdict of the
// authorization server on the token: no answer, or a server error.
func transient(err error) bool {
	var oe *OAuthError
	return !errors.As(err, &oe) || oe.Status >= 500
}

// uncount takes back the attempt t's in-flight record counted, while this
// keeper still holds the lease and the record is still that attempt's.
func (k *Keeper) uncount(ctx context.Context, t store.AutomationToken) {
	_, err := k.cfg.Tokens.UpdateToken(ctx, t.ID, func(x *store.AutomationToken) error {
		if x.LeaseHolder == k.holder && x.InflightHash == t.InflightHash && x.InflightAttempts == t.InflightAttempts && x.InflightAttempts > 0 {
			x.InflightAttempts--
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		k.cfg.Log.WarnContext(ctx, "recording a failed refresh attempt failed", "tenant", t.TenantID, "kind", t.Kind, "err", err)
	}
}

func (k *Keeper) fault(point string) {
	if k.Faults != nil {
		k.Faults(point)
	}
}

// markReconnect marks t unusable with reason, drops its values, and
// returns the matching *ReconnectError.
func (k *Keeper) markReconnect(ctx context.Context, t store.AutomationToken, reason string, cause error) error {
	_, err := k.cfg.Tokens.UpdateToken(ctx, t.ID, func(x *store.AutomationToken) error {
		x.State, x.Reason = store.TokenReconnectNeeded, reason
		x.RefreshSealed, x.AccessSealed, x.AccessScopes, x.AccessExpiresAt = "", "", nil, time.Time{}
		x.InflightHash, x.InflightAttempts, x.InflightAt = "", 0, time.Time{}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("keeper: mark reconnect needed: %w", err)
	}
	k.cfg.Log.WarnContext(ctx, "automation token needs reconnecting", "tenant", t.TenantID, "kind", t.Kind, "reason", reason, "cause", cause)
	k.record(ctx, t, "automation.token_reconnect_needed", map[string]string{"reason": reason})
	return &ReconnectError{Reason: reason}
}

// GrantRevoked marks t reconnect_needed with reason because its grant was
// revoked at the authorization server, unless the row has changed since t
// was read (re-issued, refreshed onto another hash, already marked). Every
// process hears of a revocation; only the one that makes the change logs
// and audits it, so it returns whether this call did.
func (k *Keeper) GrantRevoked(ctx context.Context, t store.AutomationToken, reason string) (bool, error) {
	marked := false
	_, err := k.cfg.Tokens.UpdateToken(ctx, t.ID, func(x *store.AutomationToken) error {
		if x.State == store.TokenReconnectNeeded || x.RefreshHash != t.RefreshHash {
			return nil
		}
		x.State, x.Reason = store.TokenReconnectNeeded, reason
		x.RefreshSealed, x.AccessSealed, x.AccessScopes, x.AccessExpiresAt = "", "", nil, time.Time{}
		x.InflightHash, x.InflightAttempts, x.InflightAt = "", 0, time.Time{}
		marked = true
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil // deleted meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("keeper: mark reconnect needed: %w", err)
	}
	if marked {
		k.cfg.Log.InfoContext(ctx, "automation token needs reconnecting", "tenant", t.TenantID, "kind", t.Kind, "reason", reason)
		k.record(ctx, t, "automation.token_reconnect_needed", map[string]string{"reason": reason})
	}
	return marked, nil
}

// OwnerLeft revokes a user token whose owner is no longer an administrator
// of the organization: at the authorization server (RFC 7009) and here.
func (k *Keeper) OwnerLeft(ctx context.Context, t store.AutomationToken) error {
	if t.Kind != store.TokenUser {
		return nil
	}
	k.RevokeAtServer(ctx, t)
	return k.markReconnect(ctx, t, "revoked: the owner is no longer an administrator of this organization", nil)
}

// RevokeAtServer revokes t's refresh token (and so its grant) at the
// authorization server. Failures are logged: the token is dropped here
// anyway, and an unused grant dies after 90 days.
func (k *Keeper) RevokeAtServer(ctx context.Context, t store.AutomationToken) {
	if t.RefreshSealed == "" {
		return
	}
	raw, err := k.cfg.Vault.Open(ctx, t.RefreshSealed, AD(t, "refresh"))
	if err != nil {
		k.cfg.Log.WarnContext(ctx, "cannot open token to revoke it", "tenant", t.TenantID, "kind", t.Kind, "err", err)
		return
	}
	if err := k.cfg.AS.Revoke(ctx, string(raw), "refresh_token"); err != nil {
		k.cfg.Log.WarnContext(ctx, "revoking token at the authorization server failed", "tenant", t.TenantID, "kind", t.Kind, "err", err)
	}
}

// Rejected handles a 401 from the API for access (RFC 6750 §3.1
// invalid_token): the access token is dropped, so the next use refreshes,
// which tells a revoked grant (invalid_grant) from a dropped access token.
func (k *Keeper) Rejected(ctx context.Context, ref Ref, access string) error {
	t, err := k.get(ctx, ref)
	if err != nil {
		return err
	}
	_, err = k.cfg.Tokens.UpdateToken(ctx, t.ID, func(x *store.AutomationToken) error {
		if x.AccessSealed == "" {
			return nil
		}
		raw, err := k.cfg.Vault.Open(ctx, x.AccessSealed, AD(*x, "access"))
		if err == nil && subtle.ConstantTimeCompare(raw, []byte(access)) == 1 {
			x.AccessSealed, x.AccessExpiresAt = "", time.Time{}
		}
		return nil
	})
	return err
}

// DropAccess discards t's cached access token (after a downgrade of its
// owner, so that no access token with write scopes is used again).
func (k *Keeper) DropAccess(ctx context.Context, id string) error {
	_, err := k.cfg.Tokens.UpdateToken(ctx, id, func(x *store.AutomationToken) error {
		x.AccessSealed, x.AccessExpiresAt, x.AccessScopes = "", time.Time{}, nil
		return nil
	})
	return err
}

// State is what pages and `tenant list` show of a token: never a value.
func State(t store.AutomationToken) string {
	switch {
	case t.State == store.TokenReconnectNeeded:
		return store.TokenReconnectNeeded
	case t.InflightHash != "":
		return store.TokenRefreshing
	default:
		return store.TokenValid
	}
}

func (k *Keeper) record(ctx context.Context, t store.AutomationToken, action string, details map[string]string) {
	if k.cfg.Audit == nil {
		return
	}
	d := map[string]string{"tenant": t.TenantID, "kind": string(t.Kind)}
	for key, v := range details {
		d[key] = v
	}
	actor := ""
	if t.Kind == store.TokenUser {
		actor = t.AccountID
	}
	_ = k.cfg.Audit.Record(ctx, store.AuditEvent{
		Action: action, ActorAccountID: actor, ActorClientID: t.ClientID, OrgID: t.OrgID, Target: t.TenantID + "/" + string(t.Kind), Details: d,
	})
}

// NeedsReissue reports whether a user token was granted more than its
// owner may now use (a downgrade): it is then replaced by a narrower grant.
func NeedsReissue(t store.AutomationToken, access store.Access) bool {
	return t.Kind == store.TokenUser && !slices.Equal(AllowedScopes(t.Scopes, access), t.Scopes)
}
