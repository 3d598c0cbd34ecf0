// Package authz is grantflow's OAuth 2.0 authorization server, compatible
// with clients written for Meraki's as.meraki.com:
//
//   - GET/POST /oauth/authorize: the authorization code flow with consent
//     (RFC 6749 §4.1.1–§4.1.2.1), PKCE S256 (RFC 7636 §4.3–§4.4) and the iss
//     response parameter (RFC 9207 §2);
//   - POST /oauth/token: client authentication (RFC 6749 §2.3.1) and the
//     grant types of package grants (RFC 6749 §4.1.3, §6; RFC 9700 §4.14);
//   - POST /oauth/revoke: token revocation (RFC 7009 §2);
//   - POST /oauth/introspect: token introspection (RFC 7662 §2);
//   - GET /.well-known/oauth-authorization-server: metadata (RFC 8414 §2, §3);
//   - the Organization > Integrations page where administrators remove an
//     integration, the [Validator] every bearer-token API uses, and the
//     [Janitor] that deletes rows nobody can use any more.
//
// Protocol values shared with the grant types (errors, token makers, PKCE)
// live in package oauth.
package authz

import "context"

// Feed is the change feed (package changes): every process subscribes to
// the kinds of change that invalidate its caches, and Sync polls the store
// at once, so that a revocation made here or by another replica or a CLI
// command takes effect everywhere.
type Feed interface {
	// Subscribe calls fn with the key of every change of kind. fn may be
	// called from another goroutine.
	Subscribe(kind string, fn func(key string))
	// Sync reads the changes published so far and calls the subscribers
	// before returning.
	Sync(ctx context.Context) error
}
