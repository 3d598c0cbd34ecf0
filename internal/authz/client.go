package authz

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/store"
)

// clientCredentials are the credentials a request presents (RFC 6749 §2.3.1).
type clientCredentials struct {
	ID, Secret string
	Method     string // "client_secret_basic" or "client_secret_post"
}

// parseClientCredentials reads HTTP Basic or client_secret_post
// credentials from r, whose form must already be parsed. Using both at
// once is invalid_request (RFC 6749 §2.3: a client must not use more than
// one method per request); none at all is invalid_client.
func parseClientCredentials(r *http.Request) (clientCredentials, error) {
	basicID, basicSecret, hasBasic, err := parseBasic(r.Header.Get("Authorization"))
	if err != nil {
		return clientCredentials{}, err
	}
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	switch {
	case hasBasic && formSecret != "":
		return clientCredentials{}, oauth.InvalidRequest("Use one client authentication method: HTTP Basic or client_secret in the body, not both.")
	case hasBasic:
		// client_id may also be in the body (RFC 6749 §4.1.3); it must then
		// name the same client.
		if formID != "" && formID != basicID {
			return clientCredentials{}, oauth.InvalidRequest("The client_id in the body differs from the one in the Authorization header.")
		}
		return clientCredentials{ID: basicID, Secret: basicSecret, Method: "client_secret_basic"}, nil
	case formID != "" && formSecret != "":
		return clientCredentials{ID: formID, Secret: formSecret, Method: "client_secret_post"}, nil
	}
	return clientCredentials{}, fmt.Errorf("no client credentials: %w", oauth.ErrInvalidClient)
}

// parseBasic decodes an "Authorization: Basic" header. RFC 6749 §2.3.1
// form-urlencodes the id and the secret before Basic encoding, so both are
// decoded again. A header with another scheme (or malformed Basic) is
// refused as invalid_client rather than ignored, so a client that meant to
// authenticate learns that it did not.
func parseBasic(header string) (id, secret string, ok bool, err error) {
	if header == "" {
		return "", "", false, nil
	}
	// Reuse net/http's parser (case-insensitive scheme, base64).
	r := http.Request{Header: http.Header{"Authorization": {header}}}
	rawID, rawSecret, ok := r.BasicAuth()
	if !ok {
		return "", "", false, fmt.Errorf("malformed Authorization header: %w", oauth.ErrInvalidClient)
	}
	if id, err = url.QueryUnescape(rawID); err != nil {
		return "", "", false, fmt.Errorf("client id not form-urlencoded: %w", oauth.ErrInvalidClient)
	}
	if secret, err = url.QueryUnescape(rawSecret); err != nil {
		return "", "", false, fmt.Errorf("client secret not form-urlencoded: %w", oauth.ErrInvalidClient)
	}
	if id == "" {
		return "", "", false, fmt.Errorf("empty client id: %w", oauth.ErrInvalidClient)
	}
	return id, secret, true, nil
}

// clients caches registered clients by id so that authenticating a client
// (on every token, revoke and introspect request) needs no store read. An
// update (a rotated secret, a changed redirect URI) or a delete publishes a
// store.ChangeClient change, which drops the entry at once.
type clients struct {
	st    store.Clients
	mu    sync.RWMutex
	m     map[string]store.Client
	epoch uint64 // bumped by every drop; see get
}

// maxCachedClients bounds the cache; past it an arbitrary entry goes.
const maxCachedClients = 10000

func newClients(st store.Clients) *clients {
	return &clients{st: st, m: map[string]store.Client{}}
}

// get returns the client with id, store.ErrNotFound if there is none.
func (c *clients) get(ctx context.Context, id string) (store.Client, error) {
	c.mu.RLock()
	cl, ok := c.m[id]
	epoch := c.epoch
	c.mu.RUnlock()
	if ok {
		return cl, nil
	}
	cl, err := c.st.GetClient(ctx, id)
	if err != nil {
		return store.Client{}, err
	}
	c.mu.Lock()
	// A drop that ran while we read the store may have been for this very
	// client; caching what we read could then resurrect an old secret.
	if c.epoch == epoch {
		if len(c.m) >= maxCachedClients {
			for k := range c.m {
				delete(c.m, k)
				break
			}
		}
		c.m[id] = cl
	}
	c.mu.Unlock()
	return cl, nil
}

func (c *clients) drop(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.epoch++
	c.mu.Unlock()
}

// authenticate checks the credentials of r (form parsed) and returns the
// client. Every failure is invalid_client except a request using two
// methods (invalid_request).
func (c *clients) authenticate(r *http.Request) (store.Client, error) {
	cred, err := parseClientCredentials(r)
	if err != nil {
		return store.Client{}, err
	}
	cl, err := c.get(r.Context(), cred.ID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, fmt.Errorf("unknown client %q: %w", cred.ID, oauth.ErrInvalidClient)
	}
	if err != nil {
		return store.Client{}, err
	}
	if !oauth.HashMatches(cred.Secret, cl.SecretHash) {
		return store.Client{}, fmt.Errorf("wrong secret for client %q (%s): %w", cred.ID, cred.Method, oauth.ErrInvalidClient)
	}
	return cl, nil
}

// withClient is the start the client endpoints (token, revocation,
// introspection) share, written once so that they cannot come to differ
// in how a client proves who it is (as Dex's withClientFromStorage): it
// reads the form body (RFC 6749 §3.2) and authenticates the client
// (RFC 6749 §2.3.1, RFC 7009 §2.1, RFC 7662 §2.1) before next runs.
func (h *Handler) withClient(next func(w http.ResponseWriter, r *http.Request, client store.Client)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := readForm(w, r); err != nil {
			oauth.WriteError(w, r, h.lg, err)
			return
		}
		client, err := h.clients.authenticate(r)
		if err != nil {
			oauth.WriteError(w, r, h.lg, err)
			return
		}
		next(w, r, client)
	}
}
