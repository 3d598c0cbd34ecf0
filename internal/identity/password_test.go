package identity_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/identity"
)

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		want     error
	}{
		{"empty", "", identity.ErrPasswordTooShort},
		{"eleven characters", "abcdefgh-jk", identity.ErrPasswordTooShort},
		{"twelve characters", "abcdefgh-jkl", nil},
		{"passphrase", "correct horse battery", nil},
		// 6 runes but 18 bytes: runes are what count.
		{"short in runes, long in bytes", "日本語の文章", identity.ErrPasswordTooShort},
		{"twelve runes of multibyte text", "日本語の長いパスワードです", nil},
		{"breached", "password1234", identity.ErrPasswordBreached},
		{"breached, other case", "PassWord1234", identity.ErrPasswordBreached},
		{"breached, with symbols", "P@ssw0rd1234", identity.ErrPasswordBreached},
		{"breached keyboard walk", "1qaz2wsx3edc", identity.ErrPasswordBreached},
		{"breached list is exact match", "password1234 is long enough", nil},
		{"too long", strings.Repeat("a", identity.MaxPasswordLength+1), identity.ErrPasswordTooLong},
		{"invalid utf-8", "abcdefghijk\xff", identity.ErrPasswordEncoding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := identity.CheckPasswordPolicy(tc.password)
			if !errors.Is(err, tc.want) {
				t.Fatalf("CheckPasswordPolicy(%q) = %v, want %v", tc.password, err, tc.want)
			}
		})
	}
	// The message says how long the password was, for a person fixing it.
	if err := identity.CheckPasswordPolicy("short"); err == nil || !strings.Contains(err.Error(), "at least 12 characters") || !strings.Contains(err.Error(), "has 5") {
		t.Errorf("too-short message = %v", err)
	}
}

func TestHashAndVerify(t *testing.T) {
	t.Parallel()
	h, err := identity.HashPassword("correct horse battery", identity.TestArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Count(h, "$") != 5 {
		t.Fatalf("hash %q is not an argon2id PHC string", h)
	}
	h2, _ := identity.HashPassword("correct horse battery", identity.TestArgon2)
	if h == h2 {
		t.Error("two hashes of one password are equal: salt missing")
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse battery", true},
		{"correct horse batterY", false},
		{"", false},
	} {
		ok, err := identity.VerifyPassword(h, tc.password)
		if err != nil || ok != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tc.password, ok, err, tc.want)
		}
	}
	// Default parameters are in the string and verify too.
	hd, _ := identity.HashPassword("another long password", identity.DefaultArgon2)
	if !strings.HasPrefix(hd, "$argon2id$v=19$m=65536,t=1,p=2$") {
		t.Errorf("default hash %q", hd)
	}
	if ok, err := identity.VerifyPassword(hd, "another long password"); !ok || err != nil {
		t.Errorf("verify default-cost hash: %v %v", ok, err)
	}
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	t.Parallel()
	good, _ := identity.HashPassword("correct horse battery", identity.TestArgon2)
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":         "",
		"bcrypt":        "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":       strings.Replace(good, "argon2id", "argon2i", 1),
		"version":       strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":   strings.Replace(good, "m=64", "m=99999999", 1),
		"zero time":     strings.Replace(good, "t=1", "t=0", 1),
		"bad salt":      strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"short hash":    strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"extra field":   good + "$x",
		"unknown param": strings.Replace(good, "p=1", "p=1,x=2", 1),
	} {
		if ok, err := identity.VerifyPassword(h, "correct horse battery"); ok || err == nil {
			t.Errorf("%s: VerifyPassword(%q) = %v, %v; want an error", name, h, ok, err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 50 {
		p := identity.GeneratePassword()
		if len(p) != 20 {
			t.Fatalf("len(%q) = %d, want 20", p, len(p))
		}
		if strings.ContainsAny(p, "0O1lIo") {
			t.Errorf("%q has an ambiguous character", p)
		}
		if err := identity.CheckPasswordPolicy(p); err != nil {
			t.Errorf("%q fails the policy: %v", p, err)
		}
		if seen[p] {
			t.Errorf("%q generated twice", p)
		}
		seen[p] = true
	}
}
