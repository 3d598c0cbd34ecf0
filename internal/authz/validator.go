package authz

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/store"
)

// ErrInvalidToken is returned by [Validator.Validate] for a token that is
// unknown, expired or revoked (RFC 6750 §3.1 invalid_token).
var ErrInvalidToken = errors.New("authz: invalid access token")

// Validator checks bearer access tokens for every API that accepts them
// (the Dashboard API, introspection). Active tokens are cached in memory
// by hash until they expire, so a token in use needs no store read.
// Revocation stays immediate: the validator drops cached tokens on the
// change feed's store.ChangeGrant (every token of the grant),
// store.ChangeAccessToken and store.ChangeClient (every token of the client)
// changes, and the handlers of this package drop them directly too.
// Negative answers are not cached: an unknown token costs a store read, but
// malformed ones are refused before it.
//
// A Validator is safe for concurrent use.
type Validator struct {
	grants store.Grants
	now    func() time.Time
	// epoch is bumped before every invalidation. A miss that read the store
	// caches its result only if no invalidation started meanwhile, so a
	// token revoked while it was being read is never cached as active.
	epoch    atomic.Uint64
	perShard int
	shards   [validatorShards]tokenShard
}

const validatorShards = 32

// DefaultCacheSize is the number of tokens a Validator caches by default.
const DefaultCacheSize = 100_000

type tokenKey [sha256.Size]byte

type tokenShard struct {
	mu        sync.RWMutex
	m         map[tokenKey]store.AccessToken
	byGrant   map[string][]tokenKey
	lastSweep time.Time
}

// NewValidator returns a validator caching up to size tokens (size <= 0
// means [DefaultCacheSize]) and subscribes it to feed, which may be nil when
// the caller invalidates by other means (tests).
func NewValidator(grants store.Grants, feed Feed, now func() time.Time, size int) *Validator {
	if size <= 0 {
		size = DefaultCacheSize
	}
	if now == nil {
		now = time.Now
	}
	v := &Validator{grants: grants, now: now, perShard: max(1, size/validatorShards)}
	for i := range v.shards {
		v.shards[i].m = make(map[tokenKey]store.AccessToken)
		v.shards[i].byGrant = make(map[string][]tokenKey)
	}
	if feed != nil {
		feed.Subscribe(store.ChangeGrant, v.dropGrant)
		feed.Subscribe(store.ChangeAccessToken, v.dropToken)
		feed.Subscribe(store.ChangeClient, v.dropClient)
	}
	return v
}

// Validate returns the access token raw stands for if it is active: known,
// not expired, not revoked, its grant not revoked. It returns
// [ErrInvalidToken] otherwise, or a store error. The returned token's
// Scopes slice is shared with the cache and must not be modified.
func (v *Validator) Validate(ctx context.Context, raw string) (store.AccessToken, error) {
	if !oauth.LooksLike(raw, oauth.AccessPrefix) {
		return store.AccessToken{}, ErrInvalidToken
	}
	key := tokenKey(sha256.Sum256([]byte(raw)))
	now := v.now()
	sh := &v.shards[key[0]%validatorShards]
	sh.mu.RLock()
	tok, ok := sh.m[key]
	sh.mu.RUnlock()
	if ok {
		if now.Before(tok.ExpiresAt) {
			return tok, nil
		}
		return store.AccessToken{}, ErrInvalidToken
	}

	epoch := v.epoch.Load()
	tok, grant, err := v.grants.GetAccessToken(ctx, hex.EncodeToString(key[:]))
	if errors.Is(err, store.ErrNotFound) {
		return store.AccessToken{}, ErrInvalidToken
	}
	if err != nil {
		return store.AccessToken{}, fmt.Errorf("authz: read access token: %w", err)
	}
	if !tok.RevokedAt.IsZero() || grant.Revoked() || !now.Before(tok.ExpiresAt) {
		return store.AccessToken{}, ErrInvalidToken
	}
	v.put(sh, key, tok, epoch, now)
	return tok, nil
}

func (v *Validator) put(sh *tokenShard, key tokenKey, tok store.AccessToken, epoch uint64, now time.Time) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if v.epoch.Load() != epoch {
		return
	}
	if _, ok := sh.m[key]; ok {
		return
	}
	if len(sh.m) >= v.perShard {
		sh.evict(now, v.perShard)
	}
	sh.m[key] = tok
	sh.byGrant[tok.GrantID] = append(sh.byGrant[tok.GrantID], key)
}

// evict makes room in a full shard: expired tokens first (at most once a
// minute, since a sweep walks the whole shard), else an arbitrary one.
func (sh *tokenShard) evict(now time.Time, limit int) {
	if now.Sub(sh.lastSweep) > time.Minute {
		sh.lastSweep = now
		for k, t := range sh.m {
			if !now.Before(t.ExpiresAt) {
				sh.remove(k, t.GrantID)
			}
		}
		if len(sh.m) < limit {
			return
		}
	}
	for k, t := range sh.m {
		sh.remove(k, t.GrantID)
		return
	}
}

func (sh *tokenShard) remove(k tokenKey, grantID string) {
	delete(sh.m, k)
	keys := sh.byGrant[grantID]
	for i, x := range keys {
		if x == k {
			keys[i] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
			break
		}
	}
	if len(keys) == 0 {
		delete(sh.byGrant, grantID)
	} else {
		sh.byGrant[grantID] = keys
	}
}

// dropGrant forgets every cached token of a grant (revoked, or its family
// revoked on reuse).
func (v *Validator) dropGrant(grantID string) {
	v.epoch.Add(1)
	for i := range v.shards {
		sh := &v.shards[i]
		sh.mu.Lock()
		for _, k := range sh.byGrant[grantID] {
			delete(sh.m, k)
		}
		delete(sh.byGrant, grantID)
		sh.mu.Unlock()
	}
}

// dropToken forgets one token, named by its hex hash.
func (v *Validator) dropToken(hashHex string) {
	v.epoch.Add(1)
	var k tokenKey
	if n, err := hex.Decode(k[:], []byte(hashHex)); err != nil || n != len(k) {
		return
	}
	sh := &v.shards[k[0]%validatorShards]
	sh.mu.Lock()
	if t, ok := sh.m[k]; ok {
		sh.remove(k, t.GrantID)
	}
	sh.mu.Unlock()
}

// dropClient forgets every token of a client (updated or deleted). Client
// changes are rare, so this walks the cache instead of keeping an index.
func (v *Validator) dropClient(clientID string) {
	v.epoch.Add(1)
	for i := range v.shards {
		sh := &v.shards[i]
		sh.mu.Lock()
		for k, t := range sh.m {
			if t.ClientID == clientID {
				sh.remove(k, t.GrantID)
			}
		}
		sh.mu.Unlock()
	}
}

// cached reports how many tokens are cached (tests, metrics).
func (v *Validator) cached() int {
	n := 0
	for i := range v.shards {
		sh := &v.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}
