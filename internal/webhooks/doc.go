// Package webhooks tells integrations when their access ends. An
// integration's owner registers a URL; grantflow then POSTs an event to it
// when one of its grants is revoked (RFC 7009 revocation, refresh-token
// reuse, idle expiry: grant.revoked), when an administrator removes it from
// an organization (grant.removed), when its client secret is rotated
// (client.secret_rotated) and when it is deleted (client.deleted). An
// event names the client, the organization, the grant and the reason,
// never a token.
//
// Deliveries follow the Standard Webhooks specification
// (https://www.standardwebhooks.com): headers webhook-id, webhook-timestamp
// and webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>",
// keyed with the base64-decoded part of a "whsec_" secret that is shown
// once and stored sealed by the Automation vault ([Sealer]); see [Sign]
// and [Verify].
//
// The store writes each event into an outbox in the transaction of the
// change it reports, so no event is lost to a crash. A [Service] claims due
// events with a lease and delivers each as a River task; a failure is
// retried with growing delays for about a day, a lapsed lease (a process
// that died mid-delivery) makes the event due again, and a receiver that
// keeps failing is disabled with the reason shown on its integration's
// page until its URL is set again. Delivery is at least once: receivers
// deduplicate by webhook-id.
package webhooks
