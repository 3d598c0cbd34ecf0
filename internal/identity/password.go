package identity

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password policy, after NIST SP 800-63B §5.1.1.2: length is what makes a
// password strong, so any password of MinPasswordLength characters is
// accepted unless it is known from breaches. No composition rules.
const (
	MinPasswordLength = 12
	// MaxPasswordLength bounds the work one login can cause; it is far
	// above what anyone types or a password manager generates.
	MaxPasswordLength = 1024
)

var (
	// ErrPasswordTooShort and the errors below are returned by
	// [CheckPasswordPolicy]; their messages are meant for people.
	ErrPasswordTooShort = fmt.Errorf("password must be at least %d characters long", MinPasswordLength)
	ErrPasswordTooLong  = fmt.Errorf("password must be at most %d characters long", MaxPasswordLength)
	ErrPasswordBreached = errors.New("password appears in lists of passwords leaked in data breaches; choose another one")
	ErrPasswordEncoding = errors.New("password must be valid UTF-8 text")
)

//go:embed breached.txt
var breachedText string

// breached holds the embedded list, lower-cased.
var breached = func() map[string]struct{} {
	m := map[string]struct{}{}
	sc := bufio.NewScanner(strings.NewReader(breachedText))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = struct{}{}
	}
	return m
}()

// CheckPasswordPolicy reports why password is not acceptable, or nil.
// Length counts characters (runes), not bytes, so a passphrase in any
// script is measured the way its owner counts it.
func CheckPasswordPolicy(password string) error {
	if !utf8.ValidString(password) {
		return ErrPasswordEncoding
	}
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return fmt.Errorf("%w (it has %d)", ErrPasswordTooShort, n)
	}
	if n > MaxPasswordLength {
		return ErrPasswordTooLong
	}
	if _, ok := breached[strings.ToLower(password)]; ok {
		return ErrPasswordBreached
	}
	return nil
}

// Argon2Params are the argon2id cost parameters (RFC 9106 §3.1).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultArgon2 follows RFC 9106 §4's second recommended option scaled down
// to 64 MiB and one pass so that a login stays well under 100 ms on a small
// machine; the login throttle, not the hash cost alone, stops online guessing.
var DefaultArgon2 = Argon2Params{Memory: 64 * 1024, Time: 1, Threads: 2}

// TestArgon2 is cheap enough for unit tests. Never use it in production.
var TestArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding // the PHC string format's base64 (no padding)

// HashPassword returns password hashed with argon2id as a PHC string:
// "$argon2id$v=19$m=65536,t=1,p=2$<salt>$<hash>".
func HashPassword(password string, p Argon2Params) (string, error) {
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 {
		return "", errors.New("identity: argon2 parameters must be positive")
	}
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // never fails (crypto/rand since Go 1.24)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC string encoded,
// comparing the derived keys in constant time. The cost parameters are read
// from encoded, so hashes made with older parameters keep working.
func VerifyPassword(encoded, password string) (bool, error) {
	h, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

type phc struct {
	params    Argon2Params
	salt, key []byte
}

// Bounds on parsed parameters, so a corrupt or hostile hash in the store
// cannot make a login allocate gigabytes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 16
)

func parsePHC(s string) (phc, error) {
	bad := func(why string) (phc, error) {
		return phc{}, fmt.Errorf("identity: malformed argon2id hash: %s", why)
	}
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" {
		return bad("wrong number of fields")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm " + strconv.Quote(parts[1]))
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("version " + strconv.Quote(parts[2]))
	}
	var h phc
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return bad("parameter " + strconv.Quote(kv))
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return bad("parameter " + strconv.Quote(kv))
		}
		switch k {
		case "m":
			h.params.Memory = uint32(n)
		case "t":
			h.params.Time = uint32(n)
		case "p":
			if n > 255 {
				return bad("parallelism")
			}
			h.params.Threads = uint8(n)
		default:
			return bad("parameter " + strconv.Quote(k))
		}
	}
	if h.params.Memory == 0 || h.params.Time == 0 || h.params.Threads == 0 {
		return bad("missing parameter")
	}
	if h.params.Memory > maxMemoryKiB || h.params.Time > maxTime {
		return bad("cost too high")
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return bad("salt")
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 {
		return bad("hash")
	}
	return h, nil
}

// needsRehash reports whether encoded was made with parameters other than p.
func needsRehash(encoded string, p Argon2Params) bool {
	h, err := parsePHC(encoded)
	return err != nil || h.params != p
}

// passwordAlphabet leaves out characters that are easily confused when read
// off a terminal: 0/O/o, 1/l/I.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns a random 20-character password (about 116 bits)
// from an unambiguous alphabet, for the demo administrator.
func GeneratePassword() string {
	const n = 20
	for {
		b := make([]byte, 0, n)
		buf := make([]byte, 64)
		for len(b) < n {
			_, _ = rand.Read(buf)
			for _, c := range buf {
				// Rejection sampling keeps the distribution uniform.
				if int(c) >= 256-256%len(passwordAlphabet) {
					continue
				}
				b = append(b, passwordAlphabet[int(c)%len(passwordAlphabet)])
				if len(b) == n {
					break
				}
			}
		}
		if CheckPasswordPolicy(string(b)) == nil {
			return string(b)
		}
	}
}
