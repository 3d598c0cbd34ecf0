package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

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

// Create makes a new key for accountID and returns it; the key itself is
// never stored and cannot be shown again.
func (k *APIKeys) Create(ctx context.Context, accountID string) (string, store.APIKey, error) {
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
		CreatedAt: store.Micro(k.now())}
	switch err := k.keys.CreateAPIKey(ctx, key, MaxAPIKeys); {
	case errors.Is(err, store.ErrConflict):
		return "", store.APIKey{}, ErrTooManyAPIKeys
	case err != nil:
		return "", store.APIKey{}, fmt.Errorf("dashboard: create api key: %w", err)
	}
	_ = k.audit.Record(ctx, store.AuditEvent{Action: "apikey.created", ActorAccountID: accountID, Target: accountID,
		Details: map[string]string{"key_id": key.ID, "last4": key.Last4}})
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
		Details: map[string]string{"key_id": key.ID, "last4": key.Last4}})
	return nil
}

// Lookup returns the key raw stands for, or ErrInvalidAPIKey.
func (k *APIKeys) Lookup(ctx context.Context, raw string) (store.APIKey, error) {
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
