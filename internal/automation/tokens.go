package automation

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/automation/vault"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
)

// ErrBadCallback: an authorization response that does not match a request
// Automation made for this person (unknown, used or expired state, another
// person's state, wrong issuer).
var ErrBadCallback = errors.New("automation: authorization response does not match a pending request")

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func stateAD(st store.AuthState) string {
	return vault.AD("automation state", st.Hash, st.AccountID, st.TenantID, string(st.Kind), st.Issuer)
}

// mayUse returns accountID's membership in t's organization if they may
// issue, use or delete a token of kind there: anyone in the organization
// their own user token, only a tenant_admin the org token (ErrForbidden).
func (s *Service) mayUse(ctx context.Context, t store.Tenant, accountID string, kind store.TokenKind) (store.Membership, error) {
	m, role, err := s.RoleOf(ctx, t, accountID)
	if err == nil && kind == store.TokenOrg && role != store.RoleTenantAdmin {
		err = ErrForbidden
	}
	return m, err
}

// orgTokenWanted reports whether t's org token should be (re)issued: it is
// missing, or needs reconnecting.
func (s *Service) orgTokenWanted(ctx context.Context, t store.Tenant) bool {
	o, err := s.auto.GetToken(ctx, t.ID, store.TokenOrg, "")
	return errors.Is(err, store.ErrNotFound) || (err == nil && o.State == store.TokenReconnectNeeded && !removed(o))
}

// RequestScopes is what Automation asks for: every Meraki scope for the
// org token and for a full-access admin's user token, the read scopes for a
// read-only admin's.
func RequestScopes(kind store.TokenKind, access store.Access) []string {
	if kind == store.TokenUser && access != store.AccessFull {
		return scope.ReadOnly(scope.All())
	}
	return scope.All()
}

// AuthorizeURL starts issuing a token of kind for acct in t: it stores a
// single-use state bound to the person, the tenant, the kind and the
// authorization server, with a PKCE verifier (RFC 7636 §4.1), and returns
// where to send the browser.
func (s *Service) AuthorizeURL(ctx context.Context, acct store.Account, t store.Tenant, kind store.TokenKind) (string, error) {
	m, err := s.mayUse(ctx, t, acct.ID, kind)
	if err != nil {
		return "", err
	}
	clientID, err := s.clientID(ctx)
	if err != nil {
		return "", err
	}
	state, verifier := randomString(32), randomString(32)
	now := s.now()
	st := store.AuthState{Hash: oauth.Hash(state), AccountID: acct.ID, TenantID: t.ID, OrgID: t.OrgID, Kind: kind,
		Issuer: s.as.Endpoints.Issuer, CreatedAt: now, ExpiresAt: now.Add(s.cfg.StateTTL)}
	if st.VerifierSealed, err = s.vault.Seal(ctx, []byte(verifier), stateAD(st)); err != nil {
		return "", err
	}
	if err := s.auto.CreateAuthState(ctx, st); err != nil {
		return "", err
	}
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {s.cfg.RedirectURI()},
		"scope":                 {scope.Format(RequestScopes(kind, m.Access))},
		"state":                 {state},
		"code_challenge":        {oauth.S256(verifier)},
		"code_challenge_method": {"S256"},
	}
	if !s.cfg.External() {
		// The first-party path: grantflow's server issues the code without a
		// consent page for the organization named here, if the session's
		// account administers it.
		q.Set("organization_id", t.OrgID)
		if kind == store.TokenOrg {
			q.Set("token_kind", "org")
		}
	}
	sep := "?"
	if strings.Contains(s.as.Endpoints.Authorize, "?") {
		sep = "&"
	}
	return s.as.Endpoints.Authorize + sep + q.Encode(), nil
}

// CallbackResult is what a finished authorization did.
type CallbackResult struct {
	Tenant store.Tenant
	Kind   store.TokenKind
	// Denied is the server's error code when it refused (access_denied...).
	Denied string
}

// Callback handles the authorization response (RFC 6749 §4.1.2) for acct:
// it consumes the state (single use), checks that it was made for this
// person and that the response comes from the server the request went to
// (RFC 9207 iss), redeems the code with the PKCE verifier over HTTP, and
// stores the token sealed, replacing (and revoking) an older one.
func (s *Service) Callback(ctx context.Context, acct store.Account, q url.Values) (CallbackResult, error) {
	raw := q.Get("state")
	if raw == "" {
		return CallbackResult{}, fmt.Errorf("%w: no state", ErrBadCallback)
	}
	st, err := s.auto.ConsumeAuthState(ctx, oauth.Hash(raw), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return CallbackResult{}, fmt.Errorf("%w: unknown, used or expired state", ErrBadCallback)
	}
	if err != nil {
		return CallbackResult{}, err
	}
	if st.AccountID != acct.ID {
		s.lg.WarnContext(ctx, "automation callback with another person's state", "account", acct.ID)
		return CallbackResult{}, fmt.Errorf("%w: state of another person", ErrBadCallback)
	}
	if err := s.checkIssuer(ctx, st, q); err != nil {
		return CallbackResult{}, err
	}
	t, err := s.auto.GetTenant(ctx, st.TenantID)
	if err != nil {
		return CallbackResult{}, err
	}
	res := CallbackResult{Tenant: t, Kind: st.Kind}
	if e := q.Get("error"); e != "" {
		res.Denied = e
		s.lg.InfoContext(ctx, "authorization server refused Automation", "error", e, "tenant", t.ID, "kind", st.Kind)
		return res, nil
	}
	code := q.Get("code")
	if code == "" {
		return res, fmt.Errorf("%w: no code", ErrBadCallback)
	}
	verifier, err := s.vault.Open(ctx, st.VerifierSealed, stateAD(st))
	if err != nil {
		return res, fmt.Errorf("%w: %w", ErrBadCallback, err)
	}
	tr, err := s.as.Exchange(ctx, code, s.cfg.RedirectURI(), string(verifier))
	if err != nil {
		return res, fmt.Errorf("automation: redeem code: %w", err)
	}
	if tr.RefreshToken == "" {
		return res, errors.New("automation: the authorization server issued no refresh token")
	}
	if tr.OrganizationID != "" && tr.OrganizationID != t.OrgID {
		// The admin picked another organization on an external consent page.
		_ = s.as.Revoke(ctx, tr.RefreshToken, "refresh_token")
		return res, fmt.Errorf("%w: the grant is for organization %s, this tenant is organization %s", ErrInvalid, tr.OrganizationID, t.OrgID)
	}
	// Access may have changed while the browser was away.
	m, err := s.mayUse(ctx, t, acct.ID, st.Kind)
	if err != nil {
		_ = s.as.Revoke(ctx, tr.RefreshToken, "refresh_token")
		return res, err
	}
	requested := RequestScopes(st.Kind, m.Access)
	granted := tr.Scopes(requested)
	if st.Kind == store.TokenUser && !scope.Subset(granted, keeper.AllowedScopes(scope.All(), m.Access)) {
		// Never hold more than the person may do, whatever the server says.
		_ = s.as.Revoke(ctx, tr.RefreshToken, "refresh_token")
		return res, fmt.Errorf("%w: the authorization server granted more than this administrator's access", ErrInvalid)
	}
	clientID, _ := s.clientID(ctx)
	now := s.now()
	tok := store.AutomationToken{ID: newID("atk_"), TenantID: t.ID, OrgID: t.OrgID, Kind: st.Kind, AccountID: acct.ID,
		Issuer: st.Issuer, ClientID: clientID, Scopes: granted, AccessScopes: granted, RefreshHash: oauth.Hash(tr.RefreshToken),
		AccessExpiresAt: now.Add(time.Duration(tr.ExpiresIn) * time.Second), State: store.TokenValid, CreatedAt: now, RefreshedAt: now}
	if tok.RefreshSealed, err = s.vault.Seal(ctx, []byte(tr.RefreshToken), keeper.AD(tok, "refresh")); err != nil {
		return res, err
	}
	if tok.AccessSealed, err = s.vault.Seal(ctx, []byte(tr.AccessToken), keeper.AD(tok, "access")); err != nil {
		return res, err
	}
	old, err := s.auto.PutToken(ctx, tok)
	if err != nil {
		_ = s.as.Revoke(ctx, tr.RefreshToken, "refresh_token")
		return res, err
	}
	if old != nil {
		s.Keeper.RevokeAtServer(ctx, *old) // the replaced grant must not live on
	}
	details := map[string]string{"tenant": t.ID, "kind": string(st.Kind), "scope": scope.Format(granted)}
	if old != nil {
		details["replaced"] = "true"
	}
	s.record(ctx, store.AuditEvent{Action: "automation.token_issued", ActorAccountID: acct.ID, ActorClientID: clientID, OrgID: t.OrgID,
		Target: t.ID + "/" + string(st.Kind), Details: details})
	return res, nil
}

// checkIssuer is the mix-up defence (RFC 9207 §2.4): the response must come
// from the server the request was sent to, which must still be the
// configured one; iss is required when that server says it sends it.
func (s *Service) checkIssuer(ctx context.Context, st store.AuthState, q url.Values) error {
	if st.Issuer != s.as.Endpoints.Issuer {
		return fmt.Errorf("%w: the request went to %s, Automation now uses %s", ErrBadCallback, st.Issuer, s.as.Endpoints.Issuer)
	}
	iss, present := q.Get("iss"), q.Has("iss")
	if present && iss != st.Issuer {
		return fmt.Errorf("%w: iss %q is not %q", ErrBadCallback, iss, st.Issuer)
	}
	if !present && s.issRequired(ctx) {
		return fmt.Errorf("%w: the response has no iss and %s sends one", ErrBadCallback, st.Issuer)
	}
	return nil
}

var issSupport sync.Map // issuer -> bool

// issRequired reports whether the authorization server advertises RFC 9207
// support in its RFC 8414 metadata. grantflow's own does.
func (s *Service) issRequired(ctx context.Context) bool {
	if !s.cfg.External() {
		return true
	}
	iss := s.as.Endpoints.Issuer
	if v, ok := issSupport.Load(iss); ok {
		return v.(bool)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, iss+"/.well-known/oauth-authorization-server", nil)
	if err != nil {
		return false
	}
	resp, err := s.api.Do(req)
	if err != nil {
		return false // unknown: not cached, asked again next time
	}
	defer resp.Body.Close()
	var md struct {
		Issuer    string `json:"issuer"`
		Supported bool   `json:"authorization_response_iss_parameter_supported"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&md) != nil {
		// No answer (an outage): not cached, or one failure would switch
		// the mix-up defence off for the life of the process.
		return false
	}
	supported := md.Supported && md.Issuer == iss
	issSupport.Store(iss, supported)
	return supported
}

// DeleteToken removes a token after revoking it at the authorization
// server: acct's own user token, or (tenant_admin only) the org token.
func (s *Service) DeleteToken(ctx context.Context, acct store.Account, t store.Tenant, kind store.TokenKind) error {
	if _, err := s.mayUse(ctx, t, acct.ID, kind); err != nil {
		return err
	}
	tok, err := s.auto.GetToken(ctx, t.ID, kind, acct.ID)
	if errors.Is(err, store.ErrNotFound) {
		return keeper.ErrMissing
	}
	if err != nil {
		return err
	}
	s.Keeper.RevokeAtServer(ctx, tok)
	if err := s.auto.DeleteToken(ctx, tok.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.record(ctx, store.AuditEvent{Action: "automation.token_deleted", ActorAccountID: acct.ID, OrgID: t.OrgID, Target: t.ID + "/" + string(kind),
		Details: map[string]string{"tenant": t.ID, "kind": string(kind)}})
	return nil
}

// Ref names the token acct would use: their own user token, or the org token.
func Ref(t store.Tenant, kind store.TokenKind, acct store.Account) keeper.Ref {
	return keeper.Ref{TenantID: t.ID, Kind: kind, AccountID: acct.ID}
}

// TestResult is what "Test connection" shows: the answer of getOrganization.
type TestResult struct {
	Kind     store.TokenKind `json:"token"`
	URL      string          `json:"url"`
	Status   int             `json:"status"`
	Body     json.RawMessage `json:"body,omitempty"`
	Error    string          `json:"error,omitempty"`
	Duration string          `json:"duration"`
}

// TestConnection calls getOrganization through t's Current Org target with
// acct's user token or (tenant_admin only) the org token. A 401 drops the
// access token and retries once with a refreshed one, which tells a
// revoked grant (then marked reconnect_needed) from a dropped access token.
func (s *Service) TestConnection(ctx context.Context, acct store.Account, t store.Tenant, kind store.TokenKind) (TestResult, error) {
	if _, err := s.mayUse(ctx, t, acct.ID, kind); err != nil {
		return TestResult{}, err
	}
	return s.testConnection(ctx, t, Ref(t, kind, acct))
}

func (s *Service) testConnection(ctx context.Context, t store.Tenant, ref keeper.Ref) (res TestResult, err error) {
	tg, err := s.auto.GetTargetByName(ctx, t.ID, TargetName)
	if errors.Is(err, store.ErrNotFound) {
		return TestResult{}, fmt.Errorf("%w: the tenant has no %s target (it is not a Meraki tenant)", ErrInvalid, TargetName)
	}
	if err != nil {
		return TestResult{}, err
	}
	res = TestResult{Kind: ref.Kind, URL: TargetURL(tg) + "/organizations/" + url.PathEscape(t.OrgID)}
	start := time.Now()
	defer func() { res.Duration = time.Since(start).Round(time.Millisecond).String() }()
	for attempt := 0; attempt < 2; attempt++ {
		acc, err := s.Keeper.AccessToken(ctx, ref)
		if err != nil {
			res.Error = describeTokenError(err)
			return res, nil
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, res.URL, nil)
		if err != nil {
			return res, err
		}
		req.Header.Set("Authorization", "Bearer "+acc.Token)
		req.Header.Set("Accept", "application/json")
		resp, err := s.api.Do(req)
		if err != nil {
			res.Error = "the Dashboard API could not be reached: " + err.Error()
			return res, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		res.Status, res.Body = resp.StatusCode, nil
		if json.Valid(body) {
			res.Body = body
		}
		if resp.StatusCode != http.StatusUnauthorized {
			break
		}
		if err := s.Keeper.Rejected(ctx, ref, acc.Token); err != nil {
			return res, err
		}
	}
	if res.Status == http.StatusUnauthorized {
		res.Error = "the Dashboard API refuses the token even after a refresh"
	} else if res.Status >= 400 {
		res.Error = "the Dashboard API answered " + http.StatusText(res.Status)
	}
	return res, nil
}

func describeTokenError(err error) string {
	var re *keeper.ReconnectError
	switch {
	case errors.Is(err, keeper.ErrMissing):
		return "the token does not exist yet"
	case errors.As(err, &re):
		return "the token needs reconnecting: " + re.Reason
	default:
		return "the token could not be refreshed: " + err.Error()
	}
}

// KeepAlive refreshes every token not refreshed for KeepAliveAfter, so a
// schedule keeps running for years without anyone logging in: a refresh
// token unused for 90 days dies.
func (s *Service) KeepAlive(ctx context.Context) (int, error) {
	toks, err := s.auto.ListTokens(ctx, store.TokenFilter{RefreshedBefore: s.now().Add(-s.cfg.KeepAliveAfter)})
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, t := range toks {
		if t.State != store.TokenValid {
			continue
		}
		err := s.Keeper.Refresh(ctx, keeper.Ref{TenantID: t.TenantID, Kind: t.Kind, AccountID: t.AccountID})
		switch {
		case err == nil:
			n++
		case keeper.IsReconnect(err):
			// Marked and shown on the page; not a failure of the job.
		default:
			errs = append(errs, fmt.Errorf("tenant %s %s token: %w", t.TenantID, t.Kind, err))
		}
	}
	return n, errors.Join(errs...)
}

// membershipChanged follows an organization membership change (the change
// feed's key is "orgID/accountID"): a user token whose owner left is
// revoked, and one whose owner lost write access drops its access token at
// once (the next refresh asks for read scopes; the next visit re-issues).
func (s *Service) membershipChanged(key string) {
	orgID, accountID, ok := strings.Cut(key, "/")
	if !ok {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.followMembership(ctx, orgID, accountID); err != nil {
			s.lg.Warn("automation: following a membership change failed", "org", orgID, "err", err)
		}
	}()
}

func (s *Service) followMembership(ctx context.Context, orgID, accountID string) error {
	t, err := s.auto.GetTenantByOrg(ctx, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	tok, err := s.auto.GetToken(ctx, t.ID, store.TokenUser, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	m, err := s.st.Accounts().GetMembership(ctx, orgID, accountID)
	if errors.Is(err, store.ErrNotFound) {
		if tok.State == store.TokenReconnectNeeded && tok.RefreshSealed == "" {
			return nil
		}
		err := s.Keeper.OwnerLeft(ctx, tok)
		if keeper.IsReconnect(err) {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	if !scope.Subset(tok.AccessScopes, keeper.AllowedScopes(tok.Scopes, m.Access)) {
		return s.Keeper.DropAccess(ctx, tok.ID)
	}
	return nil
}
