// Package expr implements the expression languages that Cisco Workflows
// (ex-SecureX Orchestration) exports use inside their string properties, so
// that the engine can run real exports unchanged.
//
// It covers, with section numbers of FORMAT.md (the notes on the export
// format):
//
//   - references and templates (§4.2–§4.6, Appendix C): [Parse] splits a
//     string into literal text and references such as
//     $workflow.<wf>.local.<var>$ or $activity.<act>.output.jsonpath_queries.Site Id$.
//     Only tokens that start with a known root ($workflow., $activity.,
//     $global., $env., $trigger., $targetgroup., and $output. in event
//     conditions) are references; every other $ is literal text (JSONPath,
//     regex anchors, OData $select, ${param}). Malformed references seen in
//     real exports still parse, and [Ref.WellFormed] reports them.
//   - substitution (§4.4): [Template.Render] splices values in as text with
//     no escaping, [Template.Value] keeps the type of a string that is
//     exactly one reference, and [Text] is how a value is written as text.
//   - navigation (§4.3): [Walk] applies field names, [N] and [-1].
//   - integer arithmetic for Set Variables and calculate_date (§3.1, §3.19):
//     [Arith].
//   - the condition language of condition blocks, while loops, target-group
//     criteria and event definitions (§5, Appendix D): [Eval],
//     [CompileCondition] and [CheckCondition].
//   - where clauses of core.selectfromtable and the other table activities
//     (§6.4): [ParseWhere].
//
// The package depends only on the standard library. Parsing is meant to be
// done once and cached by the engine; rendering and evaluation run on every
// activity and do not compile regular expressions or format with fmt.
package expr
