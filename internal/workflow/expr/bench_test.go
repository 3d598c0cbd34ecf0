package expr

import "testing"

// benchTemplate is a Set Variables value of SiteHandoffChecklist: text and
// three references.
const benchTemplate = "$workflow.definition_workflow_02OSQ4SYHH4EH1ByWxq7yyQ9W92BYX4iG1k.output.variable_workflow_02OSQ4SZ13DFA2R2Ada5e6FxaPhIMdlBIsV$ \nPort $activity.definition_activity_02OSQ4TSCYXTP0UW6yLOvjf9ZlwithwuOcG.input.source_array[@].portId$ check Failed. $workflow.definition_workflow_02OSQ4SYHH4EH1ByWxq7yyQ9W92BYX4iG1k.local.variable_workflow_02OTQU99WJZAG5t9ELftUc5GHXFpYoqGYDB$"

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Parse(benchTemplate)
	}
}

func BenchmarkParseLiteral(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Parse("$.response.cliCredential[?(@.username == \"admin\")].instanceUuid")
	}
}

var benchRes = ResolverFunc(func(r Ref) (any, bool) {
	switch r.Scope {
	case "output":
		return "Results:", true
	case "input":
		return int64(12), true
	}
	return "Wrong VLAN.", true
})

func BenchmarkRender(b *testing.B) {
	t := Parse(benchTemplate)
	b.ReportAllocs()
	for b.Loop() {
		t.Render(benchRes)
	}
}

func BenchmarkValueSingle(b *testing.B) {
	t := Parse(localX)
	b.ReportAllocs()
	for b.Loop() {
		t.Value(benchRes)
	}
}

// benchCond is the while-loop condition of Wait For Catalyst Center Task.
var benchCond = node(leaf(isRunning, "eq", true), "and", leaf(attempts, "gt", int64(0)))

var benchCondRes = ResolverFunc(func(r Ref) (any, bool) {
	if r.Raw == isRunning {
		return true, true
	}
	return int64(3), true
})

func BenchmarkEval(b *testing.B) {
	c, err := CompileCondition(benchCond, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := c.Eval(benchCondRes); !ok {
			b.Fatal("false")
		}
	}
}

func BenchmarkEvalUncompiled(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := Eval(benchCond, benchCondRes); !ok {
			b.Fatal("false")
		}
	}
}

func BenchmarkEvalStatusString(b *testing.B) {
	c, _ := CompileCondition(leaf(statusCode, "eq", "200"), Options{})
	res := ResolverFunc(func(Ref) (any, bool) { return int64(200), true })
	b.ReportAllocs()
	for b.Loop() {
		_, _ = c.Eval(res)
	}
}

func BenchmarkEvalMregex(b *testing.B) {
	c, _ := CompileCondition(leaf(comment, "mregex", ".{2,}$"), Options{})
	res := ResolverFunc(func(Ref) (any, bool) { return "# a comment", true })
	b.ReportAllocs()
	for b.Loop() {
		_, _ = c.Eval(res)
	}
}

func BenchmarkWhere(b *testing.B) {
	row := map[string]any{"portId": "12", "name": "Lab"}
	b.ReportAllocs()
	for b.Loop() {
		w, _ := ParseWhere("portId = '12' AND name == \"Lab\"")
		w.Match(row)
	}
}
