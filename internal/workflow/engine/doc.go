// Package engine runs Cisco Workflows definitions (package export) the way
// the product does: it walks the activity tree in order, keeps each
// instance's variables and activity outputs, substitutes references
// textually (package expr), and enforces the platform's limits (500
// iterations per loop, 50,000 per run, 30 minutes per run, 1 MB per
// variable).
//
// Activity types are plug-ins: one [Type] per type, registered with
// [New]; package activities has one file per type. The engine owns what
// every activity shares: skip_execution, continue_on_failure (a failed
// activity then has output.succeeded false and output.error.message and
// .code), action_timeout, output.start_time and .end_time, the record of
// every execution, and cancellation.
//
// Runs are resumable by replay. An activity whose type acts on the world
// or waits for a person ([Type].Effect: API and HTTP requests, scripts,
// sleeps, prompts) is recorded under a deterministic key (the instance
// path, the activity id and its occurrence); a resumed run walks the tree
// again from the start, re-computes the pure activities, and takes each
// effect's recorded result instead of repeating it. That is how a run
// waits for a prompt answer without holding a process, and how another
// replica picks up a run whose process died.
package engine
