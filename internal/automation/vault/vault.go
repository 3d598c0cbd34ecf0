// Package vault seals Automation's secrets at rest (refresh and access
// tokens, its own client secret, PKCE code verifiers) with AES-256-GCM
// (NIST SP 800-38D), in an envelope: values are sealed with a data key, and
// data keys are stored in the database wrapped by a master key that never
// is (it comes from configuration or from a key file beside a SQLite
// database).
//
// Every sealed value starts with the id of its data key, so keys can be
// rotated ([Vault.Rotate] makes a new data key; [Vault.Reseal] moves a
// value to it) while old values stay readable until they are moved. Every
// value is sealed with associated data naming where it belongs (for a
// token: the tenant, the token kind and the owner), so a ciphertext copied
// into another row does not open.
package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// KeySize is the size of master and data keys: AES-256.
const KeySize = 32

const (
	sealedPrefix  = "gfv1:" // a value sealed with a data key
	wrappedPrefix = "gfm1:" // a data key wrapped with a master key
)

var (
	// ErrUnknownKey: the value names a data key this vault does not have.
	ErrUnknownKey = errors.New("vault: unknown data key")
	// ErrOpen: the value is malformed, was tampered with, or belongs to
	// another place (its associated data differs).
	ErrOpen = errors.New("vault: cannot open sealed value")
)

// AD builds associated data from parts, length-prefixed so that different
// part lists never encode to the same string.
func AD(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
		b.WriteByte('|')
	}
	return b.String()
}

// MasterID names a master key without revealing it.
func MasterID(key []byte) string {
	h := sha256.Sum256(append([]byte("grantflow automation master key\x00"), key...))
	return hex.EncodeToString(h[:6])
}

// ParseMasterKeys parses a comma-separated list of base64 32-byte keys,
// the current one first (older ones after it stay usable for unwrapping).
func ParseMasterKeys(s string) ([][]byte, error) {
	var out [][]byte
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, err := decodeKey(part)
		if err != nil {
			return nil, fmt.Errorf("vault: master key %d: %w", i+1, err)
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, errors.New("vault: no master key given")
	}
	return out, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("want %d bytes of base64, got %d bytes", KeySize, len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("not base64")
}

// NewKey returns a fresh random key, base64 encoded.
func NewKey() string {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// LoadOrCreateKeyFile reads the master keys in path (one base64 key per
// line, current first), creating the file with one new key, mode 0600, if
// it does not exist. Concurrent first starts agree on one file.
func LoadOrCreateKeyFile(path string) ([][]byte, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, werr := f.WriteString(NewKey() + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("vault: write key file: %w", werr)
		}
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("vault: create key file: %w", err)
	}
	// Another process may have created the file a moment ago and not have
	// written it yet.
	for i := 0; ; i++ {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("vault: read key file: %w", err)
		}
		if len(strings.TrimSpace(string(b))) > 0 || i == 50 {
			if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
				return nil, fmt.Errorf("vault: key file %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
			}
			return ParseMasterKeys(strings.Join(strings.Fields(string(b)), ","))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Vault seals and opens values. It is safe for concurrent use, and several
// processes may share one store: the data key list is read from the store
// whenever a value is sealed, so a rotation made elsewhere is followed at
// once.
type Vault struct {
	keys    store.DataKeys
	masters map[string]cipher.AEAD
	current string // id of the master key new data keys are wrapped with
	now     func() time.Time

	mu   sync.RWMutex
	deks map[string]cipher.AEAD // data keys by id; immutable once created
}

// New returns a vault over the data keys in keys, unwrapped with masters
// (the first wraps new data keys). It creates the first data key if there
// is none.
func New(ctx context.Context, keys store.DataKeys, masters [][]byte, now func() time.Time) (*Vault, error) {
	if len(masters) == 0 {
		return nil, errors.New("vault: no master key")
	}
	if now == nil {
		now = time.Now
	}
	v := &Vault{keys: keys, masters: map[string]cipher.AEAD{}, now: now, deks: map[string]cipher.AEAD{}}
	for i, k := range masters {
		a, err := gcm(k)
		if err != nil {
			return nil, err
		}
		id := MasterID(k)
		v.masters[id] = a
		if i == 0 {
			v.current = id
		}
	}
	list, err := keys.ListDataKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("vault: list data keys: %w", err)
	}
	if len(list) == 0 {
		if _, err := v.Rotate(ctx); err != nil {
			return nil, err
		}
	}
	if _, err := v.primary(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("vault: key must be %d bytes", KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// primary loads the data keys and returns the newest: the one to seal with.
func (v *Vault) primary(ctx context.Context) (string, error) {
	list, err := v.keys.ListDataKeys(ctx)
	if err != nil {
		return "", fmt.Errorf("vault: list data keys: %w", err)
	}
	if len(list) == 0 {
		return "", errors.New("vault: no data key in the store")
	}
	for _, k := range list {
		if err := v.load(k); err != nil {
			return "", err
		}
	}
	return list[len(list)-1].ID, nil
}

// load unwraps k into the cache.
func (v *Vault) load(k store.DataKey) error {
	v.mu.RLock()
	_, ok := v.deks[k.ID]
	v.mu.RUnlock()
	if ok {
		return nil
	}
	m, ok := v.masters[k.MasterID]
	if !ok {
		return fmt.Errorf("vault: data key %s is wrapped by master key %s, which is not configured", k.ID, k.MasterID)
	}
	raw, err := openWith(m, wrappedPrefix, k.MasterID, k.Wrapped, AD("data key", k.ID))
	if err != nil {
		return fmt.Errorf("vault: unwrap data key %s: %w", k.ID, err)
	}
	a, err := gcm(raw)
	if err != nil {
		return err
	}
	v.mu.Lock()
	v.deks[k.ID] = a
	v.mu.Unlock()
	return nil
}

// Rotate creates a new data key, wrapped by the current master key, and
// returns its id. From then on every process seals with it.
func (v *Vault) Rotate(ctx context.Context) (string, error) {
	raw := make([]byte, KeySize)
	_, _ = rand.Read(raw)
	idb := make([]byte, 6)
	_, _ = rand.Read(idb)
	id := hex.EncodeToString(idb)
	wrapped, err := sealWith(v.masters[v.current], wrappedPrefix, v.current, raw, AD("data key", id))
	if err != nil {
		return "", err
	}
	// The newest key is the one to seal with: make sure this one sorts
	// last even when clocks are coarse or frozen.
	created := store.Micro(v.now())
	if list, err := v.keys.ListDataKeys(ctx); err == nil && len(list) > 0 {
		if last := list[len(list)-1].CreatedAt; !created.After(last) {
			created = last.Add(time.Microsecond)
		}
	}
	k := store.DataKey{ID: id, MasterID: v.current, Wrapped: wrapped, CreatedAt: created}
	if err := v.keys.CreateDataKey(ctx, k); err != nil {
		return "", fmt.Errorf("vault: store data key: %w", err)
	}
	return id, v.load(k)
}

// Seal seals plaintext for the place ad names.
func (v *Vault) Seal(ctx context.Context, plaintext []byte, ad string) (string, error) {
	id, err := v.primary(ctx)
	if err != nil {
		return "", err
	}
	v.mu.RLock()
	a := v.deks[id]
	v.mu.RUnlock()
	return sealWith(a, sealedPrefix, id, plaintext, ad)
}

// Open opens a value sealed for the place ad names.
func (v *Vault) Open(ctx context.Context, sealed, ad string) ([]byte, error) {
	id := KeyID(sealed)
	if id == "" {
		return nil, ErrOpen
	}
	v.mu.RLock()
	a, ok := v.deks[id]
	v.mu.RUnlock()
	if !ok {
		// Made by a rotation in another process since we last looked.
		if _, err := v.primary(ctx); err != nil {
			return nil, err
		}
		v.mu.RLock()
		a, ok = v.deks[id]
		v.mu.RUnlock()
		if !ok {
			return nil, fmt.Errorf("%w %s", ErrUnknownKey, id)
		}
	}
	return openWith(a, sealedPrefix, id, sealed, ad)
}

// Reseal opens sealed and seals it again with the newest data key; a
// value already sealed with it is returned as it is.
func (v *Vault) Reseal(ctx context.Context, sealed, ad string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	id, err := v.primary(ctx)
	if err != nil {
		return "", err
	}
	if KeyID(sealed) == id {
		return sealed, nil
	}
	pt, err := v.Open(ctx, sealed, ad)
	if err != nil {
		return "", err
	}
	return v.Seal(ctx, pt, ad)
}

// KeyID returns the data key id a sealed value names, "" if it is malformed.
func KeyID(sealed string) string {
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, ":")
	if !ok {
		return ""
	}
	return id
}

// sealWith encrypts with a random 96-bit nonce; the key id is part of the
// associated data, so a value cannot be relabelled to another key.
func sealWith(a cipher.AEAD, prefix, keyID string, plaintext []byte, ad string) (string, error) {
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := a.Seal(nonce, nonce, plaintext, []byte(prefix+keyID+"|"+ad))
	return prefix + keyID + ":" + base64.RawURLEncoding.EncodeToString(ct), nil
}

func openWith(a cipher.AEAD, prefix, keyID, sealed, ad string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, prefix+keyID+":")
	if !ok {
		return nil, ErrOpen
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) < a.NonceSize()+a.Overhead() {
		return nil, ErrOpen
	}
	pt, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], []byte(prefix+keyID+"|"+ad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// DeleteKeysExcept deletes every data key but keep. Call it only once no
// sealed value names them any more (see the keys rotate command).
func (v *Vault) DeleteKeysExcept(ctx context.Context, keep string) ([]string, error) {
	list, err := v.keys.ListDataKeys(ctx)
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, k := range list {
		if k.ID == keep {
			continue
		}
		if err := v.keys.DeleteDataKey(ctx, k.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return deleted, err
		}
		deleted = append(deleted, k.ID)
		v.mu.Lock()
		delete(v.deks, k.ID)
		v.mu.Unlock()
	}
	return deleted, nil
}
