package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Token prefixes. A recognisable prefix lets secret scanners find leaked
// tokens in repositories and logs, and lets the server tell a refresh token
// from an access token without a store read.
const (
	AccessPrefix  = "gfat_"
	RefreshPrefix = "gfrt_"
	CodePrefix    = "gfac_"
)

// tokenLen is the length of a token made by [newSecret]: prefix plus 32
// random bytes in unpadded base64url (43 characters).
const tokenLen = 5 + 43

// NewAccessToken returns a new access token and its hash.
func NewAccessToken() (raw, hash string) { return newSecret(AccessPrefix) }

// NewRefreshToken returns a new refresh token and its hash.
func NewRefreshToken() (raw, hash string) { return newSecret(RefreshPrefix) }

// NewCode returns a new authorization code and its hash.
func NewCode() (raw, hash string) { return newSecret(CodePrefix) }

// newSecret makes prefix + 256 random bits. Such a secret cannot be guessed,
// so a plain SHA-256 is enough to store it (RFC 6749 §10.10); no slow
// password hash is needed.
func newSecret(prefix string) (raw, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand docs)
	raw = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return raw, Hash(raw)
}

// Hash returns the lowercase hex SHA-256 of a secret: what the store keeps.
func Hash(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// HashMatches reports, in constant time, whether raw hashes to storedHex
// (a [Hash] value). A malformed stored hash never matches.
func HashMatches(raw, storedHex string) bool {
	var want [sha256.Size]byte
	if len(storedHex) != 2*sha256.Size {
		return false
	}
	if _, err := hex.Decode(want[:], []byte(storedHex)); err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(raw))
	return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}

// LooksLike reports whether raw has the shape of a token made with prefix,
// so that garbage is refused without a store read.
func LooksLike(raw, prefix string) bool {
	return len(raw) == tokenLen && strings.HasPrefix(raw, prefix)
}

// NewID returns a random identifier for rows that are not secrets (grant ids).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
