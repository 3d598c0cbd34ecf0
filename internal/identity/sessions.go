package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// Session defaults.
const (
	DefaultIdleTimeout     = 2 * time.Hour
	DefaultAbsoluteTimeout = 12 * time.Hour
	// touchInterval bounds how often a request writes last_seen: at most
	// once a minute per session, so browsing costs reads, not writes. The
	// idle timeout can therefore end a session up to a minute early.
	touchInterval = time.Minute
	// accountCacheTTL is how long [Sessions.Current] trusts a cached
	// account. Only immutable fields (id, email, name) are used from it;
	// whether the session is still valid is read from the store every time.
	accountCacheTTL     = 5 * time.Minute
	accountCacheMaxSize = 10000
)

const sessionIDLen = 32 // bytes of randomness in a session id and a CSRF cookie

// SessionConfig configures [Sessions].
type SessionConfig struct {
	// Issuer is grantflow's public URL. An https issuer makes the cookies
	// Secure with the "__Host-" prefix.
	Issuer string
	// IdleTimeout ends a session not used for this long (default 2h).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after login (default 12h).
	AbsoluteTimeout time.Duration
}

// Sessions is the dashboard's login state: server-side sessions in the
// store, referenced by a random id in a cookie. It implements [web.Sessions].
type Sessions struct {
	store    store.Sessions
	accounts store.Accounts
	lg       *slog.Logger
	now      func() time.Time

	idle, absolute         time.Duration
	secure                 bool
	cookieName, csrfCookie string

	mu    sync.Mutex
	cache map[string]cachedAccount // by account id
}

type cachedAccount struct {
	acct    store.Account
	expires time.Time
}

var _ web.Sessions = (*Sessions)(nil)

// NewSessions returns the session manager. now may be nil for time.Now.
func NewSessions(sessions store.Sessions, accounts store.Accounts, cfg SessionConfig, lg *slog.Logger, now func() time.Time) (*Sessions, error) {
	if now == nil {
		now = time.Now
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.AbsoluteTimeout == 0 {
		cfg.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if cfg.IdleTimeout < 0 || cfg.AbsoluteTimeout < 0 {
		return nil, errors.New("identity: session timeouts must be positive")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("identity: issuer %q is not an http(s) URL", cfg.Issuer)
	}
	s := &Sessions{
		store: sessions, accounts: accounts, lg: lg, now: now,
		idle: cfg.IdleTimeout, absolute: cfg.AbsoluteTimeout,
		cookieName: "grantflow_session", csrfCookie: "grantflow_csrf",
		cache: map[string]cachedAccount{},
	}
	if u.Scheme == "https" {
		// __Host- cookies must be Secure, Path=/ and have no Domain, so a
		// sibling subdomain or a plain-http page cannot plant or overwrite them.
		s.secure = true
		s.cookieName = "__Host-" + s.cookieName
		s.csrfCookie = "__Host-" + s.csrfCookie
	}
	return s, nil
}

// CookieName is the session cookie's name.
func (s *Sessions) CookieName() string { return s.cookieName }

// Login starts a new session for acct. Any session the request carried is
// deleted first: the id is always fresh at login, so an id planted in the
// browser before login (session fixation) is worthless.
func (s *Sessions) Login(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	ctx := r.Context()
	if raw, ok := s.rawSessionID(r); ok {
		if err := s.store.DeleteSession(ctx, hashID(raw)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("login: drop old session: %w", err)
		}
	}
	raw := make([]byte, sessionIDLen)
	_, _ = rand.Read(raw)
	now := store.Micro(s.now())
	sess := store.Session{
		IDHash:     hashID(raw),
		AccountID:  acct.ID,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(s.absolute),
		IP:         clientIP(r),
		UserAgent:  userAgent(r),
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	acct.PasswordHash = ""
	s.remember(acct)
	// No Max-Age: the cookie ends with the browser session, and the server
	// ends it after the idle or absolute timeout, whichever comes first.
	http.SetCookie(w, s.cookie(s.cookieName, base64.RawURLEncoding.EncodeToString(raw), 0))
	return nil
}

// Logout deletes the request's session and its cookie.
func (s *Sessions) Logout(w http.ResponseWriter, r *http.Request) error {
	var err error
	if raw, ok := s.rawSessionID(r); ok {
		if derr := s.store.DeleteSession(r.Context(), hashID(raw)); derr != nil && !errors.Is(derr, store.ErrNotFound) {
			err = fmt.Errorf("logout: %w", derr)
		}
	}
	http.SetCookie(w, s.cookie(s.cookieName, "", -1))
	return err
}

// Current returns the logged-in account of the request. It costs one store
// read (the session; the account comes from a small in-memory cache) and,
// at most once a minute per session, one write to record activity.
func (s *Sessions) Current(r *http.Request) (store.Account, bool) {
	raw, ok := s.rawSessionID(r)
	if !ok {
		return store.Account{}, false
	}
	ctx := r.Context()
	idHash := hashID(raw)
	sess, err := s.store.GetSession(ctx, idHash)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.lg.ErrorContext(ctx, "session lookup failed", "err", err)
		}
		return store.Account{}, false
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.idle {
		// Expired: delete it now rather than waiting for Cleanup.
		if err := s.store.DeleteSession(ctx, idHash); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.lg.WarnContext(ctx, "expired session delete failed", "err", err)
		}
		return store.Account{}, false
	}
	acct, err := s.account(ctx, sess.AccountID)
	if err != nil {
		s.lg.ErrorContext(ctx, "session account lookup failed", "account", sess.AccountID, "err", err)
		return store.Account{}, false
	}
	if now.Sub(sess.LastSeenAt) >= touchInterval {
		if err := s.store.TouchSession(ctx, idHash, store.Micro(now)); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.lg.WarnContext(ctx, "session touch failed", "err", err)
		}
	}
	return acct, true
}

// CSRFToken returns the token the forms of this response must carry. With
// a session cookie it is derived from the session id, so nothing is stored
// and every replica computes the same value. Without one (the login form),
// it is the value of a random double-submit cookie, set here if missing.
func (s *Sessions) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	if raw, ok := s.rawSessionID(r); ok {
		return sessionCSRF(raw)
	}
	if v, ok := s.csrfCookieValue(r); ok {
		return v
	}
	// A page may ask twice while building one response; reuse the cookie
	// already set on w instead of issuing two different ones.
	for _, line := range w.Header().Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == s.csrfCookie && validToken(c.Value) {
			return c.Value
		}
	}
	b := make([]byte, sessionIDLen)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, s.cookie(s.csrfCookie, v, 0))
	return v
}

// VerifyCSRF checks the token in the "csrf_token" form field, or else in
// the X-CSRF-Token header (JSON APIs), against the request's cookies in
// constant time. A request with a session cookie must carry the session's
// token; the weaker double-submit cookie counts only when there is no
// session cookie.
func (s *Sessions) VerifyCSRF(r *http.Request) bool {
	got := r.PostFormValue("csrf_token")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	if got == "" {
		return false
	}
	var want string
	if raw, ok := s.rawSessionID(r); ok {
		want = sessionCSRF(raw)
	} else if v, ok := s.csrfCookieValue(r); ok {
		want = v
	} else {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// Cleanup deletes sessions past their idle or absolute lifetime.
func (s *Sessions) Cleanup(ctx context.Context) (int64, error) {
	now := s.now()
	return s.store.DeleteExpiredSessions(ctx, store.Micro(now.Add(-s.idle)), store.Micro(now))
}

// currentIDHash is the store key of the request's session cookie, if any.
func (s *Sessions) currentIDHash(r *http.Request) (string, bool) {
	raw, ok := s.rawSessionID(r)
	if !ok {
		return "", false
	}
	return hashID(raw), true
}

// rawSessionID returns the decoded session id from the cookie, if it has
// the right shape.
func (s *Sessions) rawSessionID(r *http.Request) ([]byte, bool) {
	c, err := r.Cookie(s.cookieName)
	if err != nil {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(raw) != sessionIDLen {
		return nil, false
	}
	return raw, true
}

func (s *Sessions) csrfCookieValue(r *http.Request) (string, bool) {
	c, err := r.Cookie(s.csrfCookie)
	if err != nil || !validToken(c.Value) {
		return "", false
	}
	return c.Value, true
}

func validToken(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == sessionIDLen
}

func (s *Sessions) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	}
}

func (s *Sessions) account(ctx context.Context, id string) (store.Account, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[id]
	s.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.acct, nil
	}
	acct, err := s.accounts.GetAccount(ctx, id)
	if err != nil {
		return store.Account{}, err
	}
	acct.PasswordHash = ""
	s.remember(acct)
	return acct, nil
}

func (s *Sessions) remember(acct store.Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cache) >= accountCacheMaxSize {
		clear(s.cache) // crude but bounded; it refills on demand
	}
	s.cache[acct.ID] = cachedAccount{acct: acct, expires: s.now().Add(accountCacheTTL)}
}

// hashID is how a session id is stored: lowercase hex SHA-256. The id has
// 256 bits of entropy, so a fast hash is enough.
func hashID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// sessionCSRF is HMAC-SHA256(key = session id, "csrf"): unguessable without
// the HttpOnly cookie, and the same on every replica.
func sessionCSRF(raw []byte) string {
	m := hmac.New(sha256.New, raw)
	m.Write([]byte("csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
