// Package automation is grantflow's Automation, in the manner of Cisco
// Workflows for Meraki: tenants (one per organization) with roles, the
// "Meraki - Current Org" target that is created and kept in sync without
// anyone acting, and the two OAuth tokens a tenant runs on: each user's
// User token (on-demand runs) and the tenant's Org-scoped token (scheduled
// runs).
//
// Automation is a first-party OAuth 2.0 client of grantflow's own
// authorization server and talks to it, and to the Dashboard API, only over
// HTTP through configured URLs, exactly as it talks to the real Meraki cloud
// (as.meraki.com, api.meraki.com) when configured to. Tokens are obtained
// with the authorization code grant (RFC 6749 §4.1) with PKCE S256 (RFC
// 7636): with grantflow's own server the browser passes through
// /oauth/authorize without a consent page (a first-party client naming the
// organization; the admin's session is the consent), so both tokens exist
// on the first visit without a click; with an external server the admin
// clicks "Connect". The state is stored server side, single use, bound to
// the person, tenant, token kind and the server it was sent to, and the
// authorization response's iss is checked (RFC 9207) against mix-up.
// Tokens are revoked with RFC 7009. Package keeper refreshes them; package
// vault seals them. See docs/automation-tokens.md.
package automation
