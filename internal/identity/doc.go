// Package identity is who is who in grantflow: organizations, the accounts
// of the people who administer them, their passwords, and their browser
// sessions on the dashboard (login, logout, CSRF protection, throttling, and
// the organization list and audit pages).
//
// Standards it follows:
//   - Passwords are hashed with argon2id, RFC 9106 §3.1 (PHC string format),
//     under a length-plus-breached-list policy (NIST SP 800-63B §5.1.1.2).
//   - Session and CSRF cookies use the "__Host-" prefix and Secure when the
//     issuer is https (RFC 6265bis §4.1.3.2), HttpOnly and SameSite=Lax
//     (RFC 6265bis §4.1.2.7).
//   - The session id is rotated at login against session fixation (OWASP
//     Session Management); CSRF tokens are HMAC-SHA256 (RFC 2104) of the
//     session id, or a double-submit cookie before login.
//   - Throttled logins answer 429 with Retry-After (RFC 6585 §4); the
//     throttle follows OWASP's Authentication Cheat Sheet: growing delays per
//     account that do not lock its owner out, a higher limit per address.
//   - return_to accepts only local paths (RFC 3986 §4.2 path-absolute
//     references), so the login page cannot be used as an open redirector
//     (RFC 9700 §4.11).
package identity
