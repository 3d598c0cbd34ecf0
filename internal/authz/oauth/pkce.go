package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// ValidPKCEValue reports whether s is a well-formed code_verifier or
// code_challenge: 43 to 128 characters of the unreserved set
// [A-Z a-z 0-9 - . _ ~] (RFC 7636 §4.1, §4.2).
func ValidPKCEValue(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// S256 returns the S256 code_challenge of a verifier (RFC 7636 §4.2).
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// VerifyPKCE checks a token request's code_verifier against the challenge
// stored with the code (RFC 7636 §4.6). challenge is "" for a code issued
// without PKCE; a verifier sent for such a code is refused, since it means
// the request is not the one the code was issued to.
func VerifyPKCE(challenge, verifier string) bool {
	switch {
	case challenge == "" && verifier == "":
		return true
	case challenge == "" || verifier == "":
		return false
	case !ValidPKCEValue(verifier):
		return false
	}
	return subtle.ConstantTimeCompare([]byte(S256(verifier)), []byte(challenge)) == 1
}
