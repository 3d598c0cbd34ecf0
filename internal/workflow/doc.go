// Package workflow is Automation's workflow engine as a service: it
// imports Cisco Workflows exports into a tenant (package export), keeps
// their versions, secure values and targets, and runs them on River jobs
// with package engine, recording every activity.
//
// On-demand runs use the runner's own User token (through the token
// keeper, refreshed before use), never anyone else's; a run records the
// token's kind and owner, never its value. Roles are enforced here, for
// the CLI, the JSON API and the pages alike: viewers read, operators run,
// authors also import, tenant_admins do everything.
//
// A run belongs to the process that claimed it and keeps a heartbeat in
// the store. A run whose process dies is taken over by another (the
// sweeper re-queues it, and the engine resumes it by replay, repeating no
// effect), or failed with the reason after MaxAttempts.
package workflow
