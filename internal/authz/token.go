package authz

import (
	"fmt"
	"mime"
	"net/http"

	"github.com/grantflow/grantflow/internal/authz/grants"
	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
)

// maxFormBytes bounds request bodies of the OAuth endpoints and forms.
const maxFormBytes = 64 << 10

// readForm parses an application/x-www-form-urlencoded POST body (RFC 6749
// §3.2) into r.PostForm. Query parameters are ignored: credentials and
// tokens do not belong in URLs. A repeated parameter is invalid_request
// (RFC 6749 §3.1).
func readForm(w http.ResponseWriter, r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return oauth.InvalidRequest("The request body must be application/x-www-form-urlencoded.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("%w (%w)", oauth.InvalidRequest("The request body could not be parsed."), err)
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 {
			return oauth.InvalidRequest("The " + k + " parameter is repeated.")
		}
	}
	return nil
}

// tokenResponse is RFC 6749 §5.1's answer plus Meraki's organization_id.
type tokenResponse struct {
	AccessToken    string `json:"access_token"`
	TokenType      string `json:"token_type"`
	ExpiresIn      int64  `json:"expires_in"`
	RefreshToken   string `json:"refresh_token"`
	Scope          string `json:"scope"`
	OrganizationID string `json:"organization_id"`
}

// token is POST /oauth/token. The steps every grant type shares are here;
// the grant type itself is one of package grants. withClient has read the
// form and authenticated client.
func (h *Handler) token(w http.ResponseWriter, r *http.Request, client store.Client) {
	ctx := r.Context()
	var err error
	gt := r.PostForm.Get("grant_type")
	g, ok := h.grants[gt]
	if !ok {
		if gt == "" {
			err = oauth.InvalidRequest("The grant_type parameter is missing.")
		} else {
			err = fmt.Errorf("grant_type %q: %w", gt, oauth.ErrUnsupportedGrantType)
		}
		oauth.WriteError(w, r, h.lg, err)
		return
	}
	req := grants.Request{Client: client, Form: r.PostForm, Now: h.cfg.Now()}
	// RFC 6749 §3.2: a parameter without a value is treated as omitted.
	if s := r.PostForm.Get("scope"); s != "" {
		if req.Scopes, err = parseScope(s); err != nil {
			oauth.WriteError(w, r, h.lg, err)
			return
		}
	}
	issued, err := g.Exchange(ctx, req)
	if err != nil {
		oauth.WriteError(w, r, h.lg, err)
		return
	}
	gr := issued.Grant
	if !issued.Audited {
		h.record(ctx, store.AuditEvent{
			Action: issued.Action, ActorClientID: client.ID, ActorAccountID: gr.AccountID, OrgID: gr.OrgID,
			Target: gr.ID, Details: map[string]string{"grant_id": gr.ID, "scope": scope.Format(issued.Scopes)},
		})
	}
	oauth.WriteJSON(w, http.StatusOK, tokenResponse{
		AccessToken:    issued.AccessToken,
		TokenType:      "Bearer",
		ExpiresIn:      int64(issued.ExpiresAt.Sub(req.Now).Seconds()),
		RefreshToken:   issued.RefreshToken,
		Scope:          scope.Format(issued.Scopes),
		OrganizationID: gr.OrgID,
	})
}
