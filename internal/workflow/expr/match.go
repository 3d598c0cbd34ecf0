package expr

import (
	"regexp"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// globMatch reports whether s matches the whole pattern, where * matches
// any run of characters (also none) and ? exactly one. Every other
// character, backslash included, stands for itself. It runs in
// O(len(s)·len(pattern)) without building a regexp.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0 // last * in pattern, and where in s it started matching
	for i < len(s) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				star, mark = p, i
				p++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[i:])
				p++
				i += n
				continue
			default:
				if pattern[p] == s[i] {
					p++
					i++
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		// Let the last * take one more character and retry.
		_, n := utf8.DecodeRuneInString(s[mark:])
		mark += n
		p, i = star+1, mark
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// regexpCache holds compiled mregex patterns. Patterns are usually
// literals, but a pattern may embed a reference, so the cache stops growing
// at maxCachedRegexps and further patterns are compiled on every use.
var (
	regexpCache sync.Map // string -> *regexp.Regexp
	regexpCount atomic.Int64
)

const maxCachedRegexps = 1024

func compileRegexp(pattern string) (*regexp.Regexp, error) {
	if re, ok := regexpCache.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	if regexpCount.Load() < maxCachedRegexps {
		if _, loaded := regexpCache.LoadOrStore(pattern, re); !loaded {
			regexpCount.Add(1)
		}
	}
	return re, nil
}
