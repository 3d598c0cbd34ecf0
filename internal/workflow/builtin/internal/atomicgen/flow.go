package atomicgen

// std are the outputs every built-in atomic has besides its own: the HTTP
// status code (an integer, compared with 200 by callers), the status text,
// Meraki's error list and the raw answer.
type std struct {
	status, message, errMsg, result Var
	ignore                          *Var // "Input - Ignore Errors", if the atomic has one
}

// stdOutputs declares the standard outputs, with the Cisco ids callers use
// where they use them ("" for a new id).
func (b *builder) stdOutputs(resultID, resultName, resultDesc, statusID, messageID, errID string) std {
	return std{
		result:  b.v(resultID, "output", "string", resultName, resultDesc, nil),
		status:  b.v(statusID, "output", "integer", "Output - Status Code", "The HTTP status code of Meraki's answer (200 on success).", nil),
		message: b.v(messageID, "output", "string", "Output - Status Message", "The HTTP status text of Meraki's answer, e.g. \"OK\" or \"Not Found\".", nil),
		errMsg:  b.v(errID, "output", "string", "Output - Error Message", "Meraki's error list as JSON text (e.g. [\"Not found\"]) when the request failed; empty on success.", nil),
	}
}

func (b *builder) ignoreErrors(id string) *Var {
	x := b.v(id, "input", "boolean", "Input - Ignore Errors",
		"Set to true to finish successfully even when Meraki answers with an error; the Status Code, Status Message and Error Message outputs then describe it.", false)
	return &x
}

// fail ends the atomic after a failure: failed-completed, or succeeded
// when the caller asked to ignore errors.
func (b *builder) fail(s std, message string) []M {
	if s.ignore == nil {
		return []M{b.completed("Completed - Failed", false, message)}
	}
	return []M{b.ifElse("Ignore Errors?",
		b.branch("Ignore Errors", cond(b.ref(*s.ignore), "eq", true), b.completed("Completed - Errors Ignored", true, message)),
		b.branch("Do Not Ignore Errors", cond(b.ref(*s.ignore), "ne", true), b.completed("Completed - Failed", false, message)),
	)}
}

// request sends req and sets the standard outputs from the answer: on a
// 2xx answer it runs onSuccess and completes; otherwise it records
// Meraki's errors and fails (see fail). The result output holds the
// response body either way, as Meraki's VLAN and uplink callers expect
// (they look for "errors" in it).
func (b *builder) request(req M, s std, onSuccess ...M) []M {
	code := out(req, "status_code")
	okActs := []M{b.set("Set Output Variables",
		assign{s.status, code}, assign{s.message, out(req, "status_text")},
		assign{s.result, out(req, "response_body")}, assign{s.errMsg, ""})}
	okActs = append(okActs, onSuccess...)
	okActs = append(okActs, b.completed("Completed - Success", true, b.ref(s.message)))

	errs := b.jsonpath("Extract API Errors", out(req, "response_body"), query{"Error Message", "$.errors", "string"})
	failActs := []M{
		b.set("Set Output Variables",
			assign{s.status, code}, assign{s.message, out(req, "status_text")},
			assign{s.result, out(req, "response_body")}, assign{s.errMsg, out(req, "status_text")}),
		errs,
		b.ifElse("Did Meraki List Errors?",
			b.branch("Yes", cond(out(errs, "succeeded"), "eq", true),
				b.set("Set Error Message", assign{s.errMsg, out(errs, "jsonpath_queries.Error Message")}))),
	}
	failActs = append(failActs, b.fail(s, b.ref(s.errMsg))...)
	return []M{req, b.ifElse("Was the Request Successful?",
		b.branch("2xx/Success", and(cond(code, "gte", 200), cond(code, "lt", 300)), okActs...),
		b.branch("Failed", or(cond(code, "lt", 200), cond(code, "gte", 300)), failActs...),
	)}
}

// field copies one value of a JSON answer into an output, when present.
func (b *builder) field(input, path, typ string, to Var) []M {
	jp := b.jsonpath("Extract "+to.Name, input, query{"value", path, typ})
	return []M{jp, b.ifElse("Found?",
		b.branch("Found", cond(out(jp, "succeeded"), "eq", true), b.set("Set "+to.Name, assign{to, out(jp, "jsonpath_queries.value")})))}
}

// fields copies several values (path -> output, all strings unless typed).
type fieldSpec struct {
	path, typ string
	to        Var
}

func (b *builder) fields(input string, specs ...fieldSpec) []M {
	var acts []M
	for _, f := range specs {
		acts = append(acts, b.field(input, f.path, f.typ, f.to)...)
	}
	return acts
}

// textBuilder accumulates a string (a query string or a JSON body) in a
// local variable, one optional part at a time.
type textBuilder struct {
	b        *builder
	text     Var
	sep      Var
	firstSep string
	nextSep  string
}

func (b *builder) textBuilder(name, start, firstSep, nextSep string) *textBuilder {
	return &textBuilder{b: b,
		text:     b.v("", "local", "string", name, "Built by the atomic: the optional parts that were given, empty ones left out.", start),
		sep:      b.v("", "local", "string", name+" Separator", "What goes before the next part.", firstSep),
		firstSep: firstSep, nextSep: nextSep}
}

// add appends part (a template) with the separator.
func (t *textBuilder) add(title, part string) M {
	return t.b.set(title, assign{t.text, t.b.ref(t.text) + t.b.ref(t.sep) + part}, assign{t.sep, t.nextSep})
}

// when appends part if c holds.
func (t *textBuilder) when(title string, c M, part string) M {
	return t.b.ifElse(title+"?", t.b.branch(title, c, t.add(title, part)))
}

// notEmpty holds when a string input was given.
func (b *builder) notEmpty(x Var) M {
	return and(cond(b.ref(x), "ne", ""), cond(b.ref(x), "ne", "null"))
}

// queryString adds name=value for a string input that is not empty.
func (t *textBuilder) queryString(name string, x Var) M {
	return t.when("Add "+name, t.b.notEmpty(x), name+"="+t.b.ref(x))
}

// queryInt adds name=value for an integer input above zero.
func (t *textBuilder) queryInt(name string, x Var) M {
	return t.when("Add "+name, cond(t.b.ref(x), "gt", 0), name+"="+t.b.ref(x))
}

// queryArray adds name[]=item for every item of an array input.
func (t *textBuilder) queryArray(name string, x Var) M {
	return t.b.forEach("Add each of "+name, t.b.ref(x), func(loop M) []M {
		return []M{t.add("Add "+name+"[]", name+"[]="+item(loop))}
	})
}

// bodyString adds "name": "value" (the value is not escaped: the format
// substitutes text as it is).
func (t *textBuilder) bodyString(name string, x Var) M {
	return t.when("Add "+name, t.b.notEmpty(x), `"`+name+`": "`+t.b.ref(x)+`"`)
}

// bodyRaw adds "name": value for a value that is JSON already (a number,
// true/false, an object as text).
func (t *textBuilder) bodyRaw(name string, x Var) M {
	return t.when("Add "+name, t.b.notEmpty(x), `"`+name+`": `+t.b.ref(x))
}

// bodyArray adds "name": [...] for a non-empty array input.
func (t *textBuilder) bodyArray(name string, x Var) M {
	return t.when("Add "+name, cond(t.b.ref(x), "ne", "[]"), `"`+name+`": `+t.b.ref(x))
}
