package authz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/store"
)

// mint issues n grants straight through the store and returns their raw
// access and refresh tokens, for tests and benchmarks that need many.
func (e *env) mint(n int) (access, refresh []string) {
	e.t.Helper()
	g := e.st.Grants()
	now := e.clock.Now()
	for range n {
		rawCode, codeHash := oauth.NewCode()
		_ = rawCode
		err := g.CreateCode(e.ctx, store.AuthCode{
			Hash: codeHash, ClientID: e.client.ID, AccountID: e.admin.ID, OrgID: e.org.ID, RedirectURI: redirectURI,
			Scopes: []string{"wireless:telemetry:read"}, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute),
		})
		if err != nil {
			e.t.Fatal(err)
		}
		at, ath := oauth.NewAccessToken()
		rt, rth := oauth.NewRefreshToken()
		_, err = g.RedeemCode(e.ctx, store.RedeemCodeParams{CodeHash: codeHash, Now: now, Check: func(c store.AuthCode) (store.Grant, store.TokenPair, error) {
			gr := store.Grant{ID: oauth.NewID(), ClientID: c.ClientID, AccountID: c.AccountID, OrgID: c.OrgID, Scopes: c.Scopes, CreatedAt: now, LastUsedAt: now}
			return gr, store.TokenPair{
				Refresh: store.RefreshToken{Hash: rth, GrantID: gr.ID, CreatedAt: now},
				Access: store.AccessToken{Hash: ath, GrantID: gr.ID, RefreshHash: rth, ClientID: gr.ClientID, AccountID: gr.AccountID,
					OrgID: gr.OrgID, Scopes: gr.Scopes, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
			}, nil
		}})
		if err != nil {
			e.t.Fatal(err)
		}
		access, refresh = append(access, at), append(refresh, rt)
	}
	return access, refresh
}

// A revocation made by another process (here: straight in the store, as a
// CLI command does) reaches the cache through the change feed.
func TestValidatorFollowsChangeFeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.h.Validator()
	access, _ := e.mint(3)
	for _, a := range access {
		if _, err := v.Validate(e.ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.cached(); n != 3 {
		t.Fatalf("cached %d, want 3", n)
	}
	tok0, _ := v.Validate(e.ctx, access[0])
	tok1, _ := v.Validate(e.ctx, access[1])
	if err := e.st.Grants().RevokeGrant(e.ctx, tok0.GrantID, "test", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Grants().RevokeAccessToken(e.ctx, tok1.Hash, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(e.ctx, access[0]); err != nil {
		t.Fatal("the cache answered before the feed told it; this test proves nothing")
	}
	if err := e.feed.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range access[:2] {
		if _, err := v.Validate(e.ctx, a); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("revoked token after sync: %v", err)
		}
	}
	if _, err := v.Validate(e.ctx, access[2]); err != nil {
		t.Fatal(err)
	}
	// Deleting the client revokes its grants and drops its tokens.
	if err := e.st.Clients().DeleteClient(e.ctx, e.client.ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.feed.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(e.ctx, access[2]); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token of a deleted client: %v", err)
	}
}

func TestValidatorExpiryAndShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.h.Validator()
	access, refresh := e.mint(1)
	if _, err := v.Validate(e.ctx, access[0]); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	if _, err := v.Validate(e.ctx, access[0]); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired cached token: %v", err)
	}
	for _, raw := range []string{"", "gfat_short", refresh[0], "Bearer " + access[0]} {
		if _, err := v.Validate(e.ctx, raw); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("%q: %v", raw, err)
		}
	}
}

func TestValidatorBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := NewValidator(e.st.Grants(), nil, e.clock.Now, 64)
	access, _ := e.mint(150)
	for _, a := range access {
		if _, err := v.Validate(e.ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.cached(); n > 64 || n < 32 {
		t.Fatalf("cached %d tokens, want at most 64 and not far fewer", n)
	}
	// Evicted tokens are read again.
	for _, a := range access {
		if _, err := v.Validate(e.ctx, a); err != nil {
			t.Fatal(err)
		}
	}
}

// blockingGrants pauses GetAccessToken until released, to interleave a
// revocation with a cache miss.
type blockingGrants struct {
	store.Grants
	reading chan struct{}
	release chan struct{}
}

func (b *blockingGrants) GetAccessToken(ctx context.Context, hash string) (store.AccessToken, store.Grant, error) {
	t, g, err := b.Grants.GetAccessToken(ctx, hash)
	b.reading <- struct{}{}
	<-b.release
	return t, g, err
}

// A token revoked while a miss was reading it from the store must not be
// cached as active: the invalidation came before the insert.
func TestValidatorMissRacingRevocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bg := &blockingGrants{Grants: e.st.Grants(), reading: make(chan struct{}, 10), release: make(chan struct{})}
	v := NewValidator(bg, nil, e.clock.Now, 0)
	access, _ := e.mint(1)
	done := make(chan error)
	go func() { _, err := v.Validate(e.ctx, access[0]); done <- err }()
	<-bg.reading // the store answered "active"
	tok, _, err := e.st.Grants().GetAccessToken(e.ctx, hashOf(access[0]))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Grants().RevokeGrant(e.ctx, tok.GrantID, "test", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	v.dropGrant(tok.GrantID)
	close(bg.release)
	// This read may say either: it began before the revocation.
	if err := <-done; err != nil && !errors.Is(err, ErrInvalidToken) {
		t.Fatal(err)
	}
	if n := v.cached(); n != 0 {
		t.Fatalf("a read that raced a revocation was cached (%d entries)", n)
	}
	if _, err := v.Validate(e.ctx, access[0]); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("after revocation: %v (a stale read was cached)", err)
	}
}

func TestValidatorConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.h.Validator()
	access, _ := e.mint(20)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				a := access[(i*7+j)%len(access)]
				if _, err := v.Validate(e.ctx, a); err != nil && !errors.Is(err, ErrInvalidToken) {
					panic(fmt.Sprint(err))
				}
				if j%50 == 0 {
					v.dropClient(e.client.ID)
					v.dropToken(hashOf(a))
				}
			}
		})
	}
	wg.Wait()
}
