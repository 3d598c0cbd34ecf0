package automation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/automation/vault"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/webhooks"
)

// RotateResult says what a key rotation did.
type RotateResult struct {
	NewKey      string   `json:"new_key"`
	Resealed    int      `json:"resealed"`
	DeletedKeys []string `json:"deleted_keys"`
}

// RotateKeys makes a new data key (wrapped by the current master key),
// re-seals every sealed value with it, and then deletes the old data keys.
// Old values stay readable until they are re-sealed: running processes
// read the key list from the store, so they seal with the new key from the
// moment it exists and can open values under both. settle is how long to
// wait before re-sealing, so that a value sealed with the old key just
// before the new one existed has been written and is re-sealed too.
func (s *Service) RotateKeys(ctx context.Context, settle time.Duration) (RotateResult, error) {
	var res RotateResult
	id, err := s.vault.Rotate(ctx)
	if err != nil {
		return res, err
	}
	res.NewKey = id
	if settle > 0 {
		select {
		case <-time.After(settle):
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	// Re-seal until a pass finds nothing left under an old key.
	for pass := 0; ; pass++ {
		n, err := s.resealAll(ctx, id)
		if err != nil {
			return res, err
		}
		res.Resealed += n
		if n == 0 {
			break
		}
		if pass == 5 {
			return res, errors.New("automation: values keep appearing under old keys; run keys rotate again")
		}
	}
	if res.DeletedKeys, err = s.vault.DeleteKeysExcept(ctx, id); err != nil {
		return res, err
	}
	s.record(ctx, store.AuditEvent{Action: "automation.keys_rotated", Target: id,
		Details: map[string]string{"new_key": id, "resealed": fmt.Sprint(res.Resealed), "deleted_keys": fmt.Sprint(res.DeletedKeys)}})
	return res, nil
}

// resealAll moves every sealed value not under key to it and counts them.
func (s *Service) resealAll(ctx context.Context, key string) (int, error) {
	n := 0
	old := func(v string) bool { return v != "" && vault.KeyID(v) != key }
	toks, err := s.auto.ListTokens(ctx, store.TokenFilter{})
	if err != nil {
		return 0, err
	}
	for _, t := range toks {
		if !old(t.RefreshSealed) && !old(t.AccessSealed) {
			continue
		}
		_, err := s.auto.UpdateToken(ctx, t.ID, func(x *store.AutomationToken) error {
			r, rerr := s.vault.Reseal(ctx, x.RefreshSealed, keeper.AD(*x, "refresh"))
			a, aerr := s.vault.Reseal(ctx, x.AccessSealed, keeper.AD(*x, "access"))
			if unreadable(rerr) || unreadable(aerr) {
				// Useless already (tampered, or copied from another row):
				// drop it rather than keep an old key alive for it.
				x.RefreshSealed, x.AccessSealed, x.AccessExpiresAt = "", "", time.Time{}
				x.State, x.Reason = store.TokenReconnectNeeded, "the stored token could not be decrypted during key rotation"
				return nil
			}
			if err := errors.Join(rerr, aerr); err != nil {
				return fmt.Errorf("token %s: %w", x.ID, err)
			}
			x.RefreshSealed, x.AccessSealed = r, a
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, err
		}
		n++
	}
	c, err := s.auto.GetAutomationClient(ctx, clientRow)
	if err == nil && old(c.SecretSealed) {
		if _, err := s.auto.UpdateAutomationClient(ctx, clientRow, func(x *store.AutomationClient) error {
			var err error
			x.SecretSealed, err = s.vault.Reseal(ctx, x.SecretSealed, clientAD(x.ClientID))
			return err
		}); err != nil {
			return n, err
		}
		n++
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return n, err
	}
	if cw, ok := s.st.(store.ClientWebhookStore); ok {
		// Integration webhook secrets are sealed by this vault too.
		m, err := webhooks.Reseal(ctx, cw.ClientWebhooks(), s.vault.Reseal)
		n += m
		if err != nil {
			return n, err
		}
	}
	for _, r := range s.resealers() {
		// Values other parts seal with this vault (workflow secrets,
		// sealed run and schedule inputs).
		m, err := r(ctx, old, s.vault.Reseal)
		n += m
		if err != nil {
			return n, err
		}
	}
	states, err := s.auto.ListAuthStates(ctx)
	if err != nil {
		return n, err
	}
	for _, st := range states {
		if !old(st.VerifierSealed) {
			continue
		}
		sealed, err := s.vault.Reseal(ctx, st.VerifierSealed, stateAD(st))
		if unreadable(err) {
			_, _ = s.auto.ConsumeAuthState(ctx, st.Hash, time.Time{}) // deletes it
			n++
			continue
		}
		if err != nil {
			return n, err
		}
		if err := s.auto.ResealAuthState(ctx, st.Hash, sealed); err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

func unreadable(err error) bool {
	return errors.Is(err, vault.ErrOpen) || errors.Is(err, vault.ErrUnknownKey)
}

// Resealer re-seals the values another part sealed with Automation's vault:
// those for which old reports true are passed through reseal and written
// back. It returns how many it re-sealed.
type Resealer func(ctx context.Context, old func(sealed string) bool, reseal func(ctx context.Context, sealed, ad string) (string, error)) (int, error)

// AddResealer makes key rotation re-seal another part's values too.
func (s *Service) AddResealer(r Resealer) {
	s.resealMu.Lock()
	s.extraReseal = append(s.extraReseal, r)
	s.resealMu.Unlock()
}

func (s *Service) resealers() []Resealer {
	s.resealMu.Lock()
	defer s.resealMu.Unlock()
	return append([]Resealer(nil), s.extraReseal...)
}
