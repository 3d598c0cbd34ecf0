package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/store"
)

// MaxAPIKeys is how many API keys one administrator may hold, as on Meraki.
const MaxAPIKeys = 2

var (
	// ErrTooManyAPIKeys is returned by [APIKeys.Create] when the account
	// already holds MaxAPIKeys keys.
	ErrTooManyAPIKeys = errors.New("dashboard: an administrator can have at most 2 API keys")
	// ErrInvalidAPIKey is returned by [APIKeys.Lookup] for an unknown key.
	ErrInvalidAPIKey = errors.New("dashboard: invalid API key")
)

// Feed is the change feed (package changes implements it). Caches
// subscribe to it so a revocation made by another process (a replica, the
// CLI) reaches them within a second.
type Feed interface {
	Subscribe(kind string, fn func(key string))
}

// APIKeys creates, lists, revokes and checks Dashboard API keys. Keys are
// 40 lowercase hex characters like Meraki's; only their SHA-256 is stored.
// Checked keys are cached by hash and dropped on the change feed's
// store.ChangeAPIKey changes; without a feed nothing is cached, so a
// revocation is still seen at once.
type APIKeys struct {
	keys   store.APIKeys
	audit  *audit.Recorder
	now    func() time.Time
	byHash *dropCache[string, store.APIKey]

	mu      sync.Mutex
	touched map[string]time.Time // key id -> last use this process wrote
}

// NewAPIKeys returns the API key service. feed may be nil (no caching);
// now may be nil for time.Now.
func NewAPIKeys(st store.Store, rec *audit.Recorder, feed Feed, now func() time.Time) *APIKeys {
	if now == nil {
		now = time.Now
	}
	k := &APIKeys{keys: st.APIKeys(), audit: rec, now: now, byHash: newDropCache[string, store.APIKey](feed != nil)}
	if feed != nil {
		feed.Subscribe(store.ChangeAPIKey, k.byHash.drop)
	}
	return k
}

// LooksLikeAPIKey reports whether raw has the form of an API key: 40
// lowercase hex characters. OAuth access tokens never do.
func LooksLikeAPIKey(raw string) bool {
	if len(raw) != 40 {
		return false
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func hashKey(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// Create makes a new unnamed key for accountID; see [APIKeys.CreateNamed].
func (k *APIKeys) Create(ctx context.Context, accountID string) (string, store.APIKey, error) {
	return k.CreateNamed(ctx, accountID, "")
}

// CreateNamed makes a new key for accountID called name (see
// [CleanAPIKeyName]) and returns it; the key itself is never stored and
// cannot be shown again.
func (k *APIKeys) CreateNamed(ctx context.Context, accountID, name string) (string, store.APIKey, error) {
	name, err := CleanAPIKeyName(name)
	if err != nil {
		return "", store.APIKey{}, err
	}
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", store.APIKey{}, err
	}
	raw := hex.EncodeToString(b)
	idb := make([]byte, 8)
	if _, err := rand.Read(idb); err != nil {
		return "", store.APIKey{}, err
	}
	key := store.APIKey{ID: hex.EncodeToString(idb), AccountID: accountID, Hash: hashKey(raw), Last4: raw[len(raw)-4:],
		Name: name, CreatedAt: store.Micro(k.now())}
	switch err := k.keys.CreateAPIKey(ctx, key, MaxAPIKeys); {
	case errors.Is(err, store.ErrConflict):
		return "", store.APIKey{}, ErrTooManyAPIKeys
	case err != nil:
		return "", store.APIKey{}, fmt.Errorf("dashboard: create api key: %w", err)
	}
	_ = k.audit.Record(ctx, store.AuditEvent{Action: "apikey.created", ActorAccountID: accountID, Target: accountID,
		Details: map[string]string{"key_id": key.ID, "last4": key.Last4, "name": key.Name}})
	return raw, key, nil
}

// List returns accountID's keys.
func (k *APIKeys) List(ctx context.Context, accountID string) ([]store.APIKey, error) {
	return k.keys.ListAPIKeys(ctx, accountID)
}

// Revoke deletes accountID's key id; it stops working at once in this
// process and within a second everywhere else.
func (k *APIKeys) Revoke(ctx context.Context, accountID, id string) error {
	key, err := k.keys.DeleteAPIKey(ctx, accountID, id, k.now())
	if err != nil {
		return err
	}
	k.byHash.drop(key.Hash)
	_ = k.audit.Record(ctx, store.AuditEvent{Action: "apikey.revoked", ActorAccountID: accountID, Target: accountID,
		Details: map[string]string{"key_id": key.ID, "last4": key.Last4, "name": key.Name}})
	return nil
}

// Lookup returns the key raw stands for, or ErrInvalidAPIKey. A found key
// counts as used (see [APIKeys.touch]).
func (k *APIKeys) Lookup(ctx context.Context, raw string) (store.APIKey, error) {
	key, err := k.lookup(ctx, raw)
	if err == nil {
		k.touch(ctx, key.ID)
	}
	return key, err
}

func (k *APIKeys) lookup(ctx context.Context, raw string) (store.APIKey, error) {
	if !LooksLikeAPIKey(raw) {
		return store.APIKey{}, ErrInvalidAPIKey
	}
	hash := hashKey(raw)
	return k.byHash.get(hash, func() (store.APIKey, error) {
		key, err := k.keys.GetAPIKeyByHash(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return store.APIKey{}, ErrInvalidAPIKey
		}
		if err != nil {
			return store.APIKey{}, fmt.Errorf("dashboard: read api key: %w", err)
		}
		return key, nil
	})
}

// LastUseGap is how often a key's last use is written: at most once a
// minute per key, not on every request.
const LastUseGap = time.Minute

// ErrInvalidAPIKeyName is returned for a name that is too long or holds
// control characters.
var ErrInvalidAPIKeyName = errors.New("an API key's name must be at most 100 characters, without control characters")

// CleanAPIKeyName trims name and checks it: at most 100 characters, no
// control characters. "" is allowed (an unnamed key).
func CleanAPIKeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if len([]rune(name)) > 100 || strings.ContainsFunc(name, unicode.IsControl) {
		return "", ErrInvalidAPIKeyName
	}
	return name, nil
}

// touch records that key id was used now. This process skips the write
// when it wrote the key less than LastUseGap ago, and the store skips it
// when another process did, so a busy key costs one write a minute.
func (k *APIKeys) touch(ctx context.Context, id string) {
	now := store.Micro(k.now())
	k.mu.Lock()
	if k.touched == nil {
		k.touched = map[string]time.Time{}
	}
	if last, ok := k.touched[id]; ok && now.Sub(last) < LastUseGap {
		k.mu.Unlock()
		return
	}
	k.touched[id] = now
	if len(k.touched) > 100_000 { // revoked keys linger; start over rather than grow
		k.touched = map[string]time.Time{id: now}
	}
	k.mu.Unlock()
	// Best effort: a lost last-use write must not fail the request.
	_ = k.keys.TouchAPIKey(ctx, id, now, LastUseGap)
}
