// Package dashboard is grantflow's Dashboard API: a faithful, local
// stand-in for Meraki's api.meraki.com/api/v1 that integrations build and
// test against and that the automation side calls by default.
//
// Every operation of Meraki's catalog (package catalog) is routed,
// authenticated and scope-checked. Requests carry an OAuth 2.0 bearer token
// (RFC 6750 §2.1; errors per §3 and §3.1) or a Meraki API key, as
// "Authorization: Bearer <key>" or "X-Cisco-Meraki-API-Key: <key>". The core
// the automation side and Cisco's sample workflows need has real semantics
// (organizations, networks, devices and inventory, statuses, admins, switch
// ports, L3 firewall rules, appliance VLANs and uplink statuses, firmware
// upgrades, clients, API request counts); every other operation is a
// generic stateful resource shaped from the catalog (see generic.go and the
// README's list).
//
// Meraki's conventions are kept: {"errors": [...]} bodies with real status
// codes, perPage/startingAfter/endingBefore pagination with an RFC 8288 Link
// header (first, prev, next, last), token-bucket rate limits per
// organization and per source IP answered with 429 (RFC 6585 §4) and
// Retry-After (RFC 9110 §10.2.3), and Meraki's id formats (numeric
// organization ids, N_/L_ network ids, Q2XX-XXXX-XXXX serials).
package dashboard
