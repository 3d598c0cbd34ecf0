package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/mail"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/store"
)

// Audit actions recorded by this package.
const (
	ActionOrgCreated         = "org.created"
	ActionAdminCreated       = "admin.created"
	ActionAdminAccessChanged = "admin.access_changed"
	ActionPasswordChanged    = "password.changed"
	ActionLoginSucceeded     = "login.succeeded"
	ActionLoginFailed        = "login.failed"
)

var (
	// ErrInvalidCredentials is the one answer to a wrong email or a wrong
	// password, so a caller cannot tell which one was wrong.
	ErrInvalidCredentials = errors.New("wrong email or password")
	// ErrInvalidEmail is returned for an address that is not a plain
	// "user@domain" email address.
	ErrInvalidEmail = errors.New("not a valid email address (expected name@example.com)")
	// ErrInvalidName is returned for an empty or overlong organization name.
	ErrInvalidName = errors.New("organization name must be 1 to 255 characters")
	// ErrInvalidAccess is returned for an access level other than full or read-only.
	ErrInvalidAccess = errors.New(`access must be "full" or "read-only"`)
)

// Stores is what [Service] needs from the store; store.Store satisfies it.
type Stores interface {
	Organizations() store.Organizations
	Accounts() store.Accounts
	Sessions() store.Sessions
	SecurityLog() store.SecurityLog
}

// Service manages organizations, administrator accounts and passwords. The
// CLI and the login page share it.
type Service struct {
	orgs     store.Organizations
	accounts store.Accounts
	sessions store.Sessions
	security store.SecurityLog
	audit    *audit.Recorder
	lg       *slog.Logger
	now      func() time.Time
	params   Argon2Params

	// hashSlots bounds concurrent argon2 computations: each takes
	// params.Memory, so a burst of logins cannot exhaust memory.
	hashSlots chan struct{}

	dummyOnce sync.Once
	dummy     string
}

// ServiceOption configures a [Service].
type ServiceOption func(*Service)

// WithArgon2 sets the cost of new password hashes (tests use [TestArgon2]).
func WithArgon2(p Argon2Params) ServiceOption { return func(s *Service) { s.params = p } }

// NewService returns a Service. now may be nil for time.Now.
func NewService(st Stores, rec *audit.Recorder, lg *slog.Logger, now func() time.Time, opts ...ServiceOption) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{
		orgs:      st.Organizations(),
		accounts:  st.Accounts(),
		sessions:  st.Sessions(),
		security:  st.SecurityLog(),
		audit:     rec,
		lg:        lg,
		now:       now,
		params:    DefaultArgon2,
		hashSlots: make(chan struct{}, 2*runtime.GOMAXPROCS(0)),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// CreateOrganization creates an organization with a fresh numeric id, the
// shape of Meraki's organization ids.
func (s *Service) CreateOrganization(ctx context.Context, name string) (store.Organization, error) {
	name, err := orgName(name)
	if err != nil {
		return store.Organization{}, err
	}
	o, err := s.insertOrganization(ctx, name)
	if err != nil {
		return store.Organization{}, err
	}
	s.record(ctx, store.AuditEvent{Action: ActionOrgCreated, OrgID: o.ID, Target: o.ID, Details: map[string]string{"name": o.Name}})
	return o, nil
}

// orgName is name trimmed, or [ErrInvalidName].
func orgName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 255 || strings.ContainsFunc(name, unicode.IsControl) {
		return "", ErrInvalidName
	}
	return name, nil
}

// insertOrganization stores an organization named name (already checked by
// [orgName]) under a fresh id, drawing another when the id is taken.
func (s *Service) insertOrganization(ctx context.Context, name string) (store.Organization, error) {
	for range 10 {
		o := store.Organization{ID: randomDigits(6 + randInt(4)), Name: name, CreatedAt: store.Micro(s.now())}
		err := s.orgs.CreateOrganization(ctx, o)
		if errors.Is(err, store.ErrConflict) {
			continue // id taken; draw another
		}
		if err != nil {
			return store.Organization{}, fmt.Errorf("create organization: %w", err)
		}
		return o, nil
	}
	return store.Organization{}, errors.New("create organization: no free id after 10 attempts")
}

// AdminResult is what [Service.CreateAdmin] or [Service.AddAdmin] did.
type AdminResult struct {
	Account store.Account // without PasswordHash
	Access  store.Access
	// AccountExisted is true when the email already had an account: only
	// the membership was set, the password was not used.
	AccountExisted bool
	// Changed is false when the account already had exactly this access.
	Changed bool
	// PreviousAccess is the access it had in the organization before ("" if
	// it was not an administrator there).
	PreviousAccess store.Access
}

// AdminParams are the arguments of [Service.AddAdmin].
type AdminParams struct {
	OrgID    string
	Email    string
	Password string // for a new account; must be empty for an existing one
	Access   store.Access
	// ChangeAccess allows changing the access of someone who is already an
	// administrator of OrgID. Without it that is an [AccessChangeError].
	ChangeAccess bool
	// Via names who acted when no account did, for the audit log (the
	// command line: "command line (os user alice)").
	Via string
}

var (
	// ErrPasswordNotUsed is returned by [Service.AddAdmin] for a password
	// given for an email that already has an account.
	ErrPasswordNotUsed = errors.New("this email already has an account, whose password is not changed here")
	// ErrAccessChange is wrapped by [AccessChangeError].
	ErrAccessChange = errors.New("already an administrator of this organization with other access")
)

// AccessChangeError says that AddAdmin was asked to change an existing
// administrator's access without [AdminParams.ChangeAccess].
type AccessChangeError struct {
	Email, OrgID string
	From, To     store.Access
}

func (e *AccessChangeError) Error() string {
	return fmt.Sprintf("%s already has %s access to organization %s (asked for %s)", e.Email, e.From, e.OrgID, e.To)
}

func (e *AccessChangeError) Unwrap() error { return ErrAccessChange }

// CreateAdmin makes email an administrator of orgID with access. It creates
// the account (password must pass [CheckPasswordPolicy]) or, if the email
// already has one, adds or updates its membership and ignores password.
// Programs and tests use it; the command line uses the stricter
// [Service.AddAdmin].
func (s *Service) CreateAdmin(ctx context.Context, orgID, email, password string, access store.Access) (AdminResult, error) {
	return s.putAdmin(ctx, AdminParams{OrgID: orgID, Email: email, Password: password, Access: access, ChangeAccess: true}, true)
}

// AddAdmin is CreateAdmin that changes nothing it was not asked to: a
// password for an existing account is [ErrPasswordNotUsed], and changing an
// existing administrator's access needs p.ChangeAccess.
func (s *Service) AddAdmin(ctx context.Context, p AdminParams) (AdminResult, error) {
	return s.putAdmin(ctx, p, false)
}

func (s *Service) putAdmin(ctx context.Context, p AdminParams, lenient bool) (AdminResult, error) {
	orgID, access := p.OrgID, p.Access
	if !access.Valid() {
		return AdminResult{}, ErrInvalidAccess
	}
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return AdminResult{}, err
	}
	if _, err := s.orgs.GetOrganization(ctx, orgID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return AdminResult{}, fmt.Errorf("organization %q not found: %w", orgID, err)
		}
		return AdminResult{}, fmt.Errorf("create admin: %w", err)
	}

	res := AdminResult{Access: access}
	acct, err := s.accounts.GetAccountByEmail(ctx, email)
	switch {
	case err == nil:
		res.AccountExisted = true
	case errors.Is(err, store.ErrNotFound):
		acct, err = s.createAccount(ctx, email, p.Password)
		if errors.Is(err, errEmailTaken) {
			// Created concurrently by someone else: treat as existing.
			acct, err = s.accounts.GetAccountByEmail(ctx, email)
			res.AccountExisted = true
		}
		if err != nil {
			return AdminResult{}, err
		}
	default:
		return AdminResult{}, fmt.Errorf("create admin: %w", err)
	}
	if res.AccountExisted && p.Password != "" && !lenient {
		return AdminResult{}, fmt.Errorf("%s: %w", email, ErrPasswordNotUsed)
	}
	acct.PasswordHash = ""
	res.Account = acct

	old, err := s.accounts.GetMembership(ctx, orgID, acct.ID)
	switch {
	case err == nil && old.Access == access:
		res.PreviousAccess = old.Access
		return res, nil
	case err == nil && !p.ChangeAccess:
		return AdminResult{}, &AccessChangeError{Email: email, OrgID: orgID, From: old.Access, To: access}
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return AdminResult{}, fmt.Errorf("create admin: %w", err)
	}
	existed := err == nil
	if existed {
		res.PreviousAccess = old.Access
	}
	// On an update the store keeps the original created_at; the time given
	// here also stamps the membership change it publishes.
	m := store.Membership{OrgID: orgID, AccountID: acct.ID, Access: access, CreatedAt: store.Micro(s.now())}
	if err := s.accounts.PutMembership(ctx, m); err != nil {
		return AdminResult{}, fmt.Errorf("create admin: %w", err)
	}
	res.Changed = true
	ev := store.AuditEvent{Action: ActionAdminCreated, OrgID: orgID, Target: acct.Email, Details: map[string]string{"access": string(access)}}
	if existed {
		ev.Action = ActionAdminAccessChanged
		ev.Details["previous_access"] = string(old.Access)
	}
	if p.Via != "" {
		ev.Details["via"] = p.Via
	}
	s.record(ctx, ev)
	return res, nil
}

var errEmailTaken = errors.New("email taken")

func (s *Service) createAccount(ctx context.Context, email, password string) (store.Account, error) {
	if err := CheckPasswordPolicy(password); err != nil {
		return store.Account{}, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return store.Account{}, err
	}
	local, _, _ := strings.Cut(email, "@")
	now := store.Micro(s.now())
	for range 10 {
		a := store.Account{ID: randomDigits(12), Email: email, Name: local, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
		err := s.accounts.CreateAccount(ctx, a)
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return store.Account{}, fmt.Errorf("create account: %w", err)
		}
		// A conflict is a taken email or (rarely) a taken id.
		if _, gerr := s.accounts.GetAccountByEmail(ctx, email); gerr == nil {
			return store.Account{}, errEmailTaken
		}
	}
	return store.Account{}, errors.New("create account: no free id after 10 attempts")
}

// SetPassword replaces the password of the account with email and logs out
// every session of that account.
func (s *Service) SetPassword(ctx context.Context, email, password string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if err := CheckPasswordPolicy(password); err != nil {
		return err
	}
	acct, err := s.accounts.GetAccountByEmail(ctx, email)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no account with email %s: %w", email, err)
		}
		return fmt.Errorf("set password: %w", err)
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	if err := s.accounts.SetPasswordHash(ctx, acct.ID, hash, store.Micro(s.now())); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	// Whoever knew the old password may hold a session; end them all.
	if err := s.sessions.DeleteAccountSessions(ctx, acct.ID); err != nil {
		return fmt.Errorf("set password: end sessions: %w", err)
	}
	// No actor: the caller (the CLI) does not know who is at the keyboard.
	s.record(ctx, store.AuditEvent{Action: ActionPasswordChanged, Target: acct.Email, Details: map[string]string{"account_id": acct.ID}})
	return nil
}

// Authenticate returns the account whose email and password match, or
// [ErrInvalidCredentials]. An unknown email costs the same argon2 work as a
// known one, so response time does not reveal which emails have accounts.
func (s *Service) Authenticate(ctx context.Context, email, password string) (store.Account, error) {
	return s.authenticate(ctx, email, password, source{})
}

// authenticate is Authenticate with where the attempt came from, for the
// audit log and the account's security log.
func (s *Service) authenticate(ctx context.Context, email, password string, src source) (store.Account, error) {
	details := map[string]string{}
	if src.IP != "" {
		details["ip"] = src.IP
	}
	norm, emailErr := NormalizeEmail(email)
	var acct store.Account
	var err error
	if emailErr == nil {
		acct, err = s.accounts.GetAccountByEmail(ctx, norm)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Account{}, fmt.Errorf("authenticate: %w", err)
		}
	}
	hash := acct.PasswordHash
	if hash == "" {
		hash = s.dummyHash()
	}
	ok, verr := s.verify(ctx, hash, password)
	if verr != nil && acct.ID != "" {
		s.lg.ErrorContext(ctx, "stored password hash unreadable", "account", acct.ID, "err", verr)
	}
	if !ok || acct.ID == "" {
		target := norm
		if emailErr != nil {
			target = truncate(email, 100)
		}
		details["reason"] = "unknown email"
		if acct.ID != "" {
			// Not the actor: whoever typed the password is unknown.
			details["reason"] = "wrong password"
			details["account_id"] = acct.ID
			s.recordSecurity(ctx, acct.ID, ActionLoginFailed, src, "wrong password")
		}
		s.record(ctx, store.AuditEvent{Action: ActionLoginFailed, Target: target, Details: details})
		return store.Account{}, ErrInvalidCredentials
	}
	if needsRehash(acct.PasswordHash, s.params) {
		// Upgrade hashes made with older cost parameters while the
		// plain password is at hand. A failure only costs the upgrade.
		if h, err := s.hash(ctx, password); err == nil {
			if err := s.accounts.SetPasswordHash(ctx, acct.ID, h, store.Micro(s.now())); err != nil {
				s.lg.WarnContext(ctx, "password rehash failed", "account", acct.ID, "err", err)
			}
		}
	}
	s.record(ctx, store.AuditEvent{Action: ActionLoginSucceeded, ActorAccountID: acct.ID, Target: acct.Email, Details: details})
	s.recordSecurity(ctx, acct.ID, ActionLoginSucceeded, src, "")
	acct.PasswordHash = ""
	return acct, nil
}

func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = HashPassword(GeneratePassword(), s.params)
	})
	return s.dummy
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashSlots }()
	return HashPassword(password, s.params)
}

func (s *Service) verify(ctx context.Context, encoded, password string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashSlots }()
	return VerifyPassword(encoded, password)
}

func (s *Service) record(ctx context.Context, ev store.AuditEvent) {
	if s.audit != nil {
		_ = s.audit.Record(ctx, ev) // the Recorder logs failures
	}
}

// NormalizeEmail lower-cases and checks a plain "user@domain" address
// (no display name, no angle brackets).
func NormalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || len(email) > 254 {
		return "", ErrInvalidEmail
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return "", ErrInvalidEmail
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(email, " \"") {
		return "", ErrInvalidEmail
	}
	return email, nil
}

// randomDigits returns n random decimal digits, the first one not 0.
func randomDigits(n int) string {
	b := make([]byte, n)
	b[0] = byte('1' + randInt(9))
	for i := 1; i < n; i++ {
		b[i] = byte('0' + randInt(10))
	}
	return string(b)
}

func randInt(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
