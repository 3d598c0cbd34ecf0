package keeper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/scope"
)

// Endpoints are the authorization server's, as configured: grantflow's own
// by default, as.meraki.com's when Automation points at the real cloud.
type Endpoints struct {
	Issuer    string // RFC 8414 issuer, compared with "iss" (RFC 9207)
	Authorize string
	Token     string
	Revoke    string
}

// EndpointsFor derives the endpoints of an authorization server at base
// (grantflow's paths, which are Meraki's).
func EndpointsFor(base string) Endpoints {
	base = strings.TrimRight(base, "/")
	return Endpoints{Issuer: base, Authorize: base + "/oauth/authorize", Token: base + "/oauth/token", Revoke: base + "/oauth/revoke"}
}

// Credentials returns Automation's client id and secret.
type Credentials func(ctx context.Context) (clientID, secret string, err error)

// AS talks to the authorization server's token and revocation endpoints
// over HTTP, authenticating with HTTP Basic (RFC 6749 §2.3.1), exactly as
// any integration of the real Meraki cloud does.
type AS struct {
	Endpoints   Endpoints
	Credentials Credentials
	HTTP        *http.Client
}

// NewAS returns an AS client with a bounded HTTP timeout: a refresh must
// finish well within the refresh lease.
func NewAS(ep Endpoints, creds Credentials) *AS {
	return &AS{Endpoints: ep, Credentials: creds, HTTP: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 16},
	}}
}

// TokenResponse is RFC 6749 §5.1's answer plus Meraki's organization_id.
type TokenResponse struct {
	AccessToken    string `json:"access_token"`
	TokenType      string `json:"token_type"`
	ExpiresIn      int64  `json:"expires_in"`
	RefreshToken   string `json:"refresh_token"`
	Scope          string `json:"scope"`
	OrganizationID string `json:"organization_id"`
}

// Scopes returns the granted scopes, or requested when the server did not
// say (RFC 6749 §5.1: scope is then as requested).
func (r TokenResponse) Scopes(requested []string) []string {
	if r.Scope == "" {
		return requested
	}
	s, err := scope.Parse(r.Scope)
	if err != nil {
		return requested
	}
	return s
}

// OAuthError is an error response of the authorization server (RFC 6749 §5.2).
type OAuthError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *OAuthError) Error() string {
	if e.Description != "" {
		return fmt.Sprintf("authorization server: %s (%s)", e.Code, e.Description)
	}
	return "authorization server: " + e.Code
}

// IsInvalidGrant reports whether err is the server's invalid_grant: the
// refresh token or code is revoked, expired, or was used before.
func IsInvalidGrant(err error) bool {
	var oe *OAuthError
	return errors.As(err, &oe) && oe.Code == "invalid_grant"
}

// Exchange redeems an authorization code with its PKCE verifier (RFC 6749
// §4.1.3, RFC 7636 §4.5).
func (a *AS) Exchange(ctx context.Context, code, redirectURI, verifier string) (TokenResponse, error) {
	return a.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}})
}

// Refresh presents a refresh token (RFC 6749 §6). scopes, when not nil,
// asks for an access token with fewer scopes than the grant.
func (a *AS) Refresh(ctx context.Context, refreshToken string, scopes []string) (TokenResponse, error) {
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if scopes != nil {
		v.Set("scope", scope.Format(scopes))
	}
	return a.token(ctx, v)
}

func (a *AS) token(ctx context.Context, form url.Values) (TokenResponse, error) {
	body, err := a.post(ctx, a.Endpoints.Token, form)
	if err != nil {
		return TokenResponse{}, err
	}
	var tr TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return TokenResponse{}, fmt.Errorf("token endpoint: decode answer: %w", err)
	}
	if tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "bearer") {
		return TokenResponse{}, errors.New("token endpoint: answer without a bearer access token")
	}
	return tr, nil
}

// Revoke revokes a token (RFC 7009 §2.1). Revoking a refresh token revokes
// its grant.
func (a *AS) Revoke(ctx context.Context, token, hint string) error {
	_, err := a.post(ctx, a.Endpoints.Revoke, url.Values{"token": {token}, "token_type_hint": {hint}})
	return err
}

func (a *AS) post(ctx context.Context, endpoint string, form url.Values) ([]byte, error) {
	id, secret, err := a.Credentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("client credentials: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: both are form-encoded before Basic encoding.
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return body, nil
	}
	oe := &OAuthError{Status: resp.StatusCode}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" {
		_ = json.Unmarshal(body, oe)
	}
	if oe.Code == "" {
		return nil, fmt.Errorf("%s answered %s", endpoint, resp.Status)
	}
	return nil, oe
}
