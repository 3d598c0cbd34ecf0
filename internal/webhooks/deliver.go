package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/grantflow/grantflow/internal/jobs"
	"github.com/grantflow/grantflow/internal/store"
)

// MaxAnswer is how much of a receiver's answer is kept for its page.
const MaxAnswer = 1024

// claimLease is how long a claimed event waits for its task to start
// before another dispatcher may claim it again.
const claimLease = time.Minute

// Payload is the body of a delivery.
type Payload struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"` // RFC 3339, when it happened
	Data      Data   `json:"data"`
}

// Data names what the event is about. OrganizationID and GrantID are ""
// for client events.
type Data struct {
	ClientID       string `json:"client_id"`
	OrganizationID string `json:"organization_id"`
	GrantID        string `json:"grant_id"`
	Reason         string `json:"reason"`
}

// body is the event's JSON, the same for every attempt.
func body(e store.WebhookEvent) []byte {
	b, _ := json.Marshal(Payload{Type: e.Type, Timestamp: e.CreatedAt.UTC().Format(time.RFC3339Nano), Data: Data{
		ClientID: e.ClientID, OrganizationID: e.OrgID, GrantID: e.GrantID, Reason: e.Reason,
	}})
	return b
}

// Task is the River task that delivers events; [Service.Dispatch] enqueues it.
func (s *Service) Task() jobs.Task {
	return jobs.Task{Kind: TaskKind, Workers: 4, Work: func(ctx context.Context, key string, _ int) error {
		return s.Deliver(ctx, key)
	}}
}

// Kick wakes [Service.Run] to look for due events now (the change feed
// calls it after a revocation or a client change).
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run dispatches due events every poll interval and when kicked, until
// ctx ends. Every process runs it; leases make each event go to one task.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
		if _, err := s.Dispatch(ctx); err != nil && ctx.Err() == nil {
			s.lg.WarnContext(ctx, "webhook dispatch failed", "err", err)
		}
	}
}

// Dispatch claims the events that are due and enqueues a delivery task for
// each; it returns how many. Without a queue it does nothing. An event
// whose task never runs (its process died) is claimed again when its lease
// lapses.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	if s.queue == nil {
		return 0, nil
	}
	now := s.cfg.Now()
	due, err := s.st.ClaimDueWebhookEvents(ctx, now, now.Add(claimLease), 100)
	if err != nil {
		return 0, err
	}
	for i, e := range due {
		if err := s.queue.Enqueue(ctx, TaskKind, e.ID+":"+e.Lease); err != nil {
			return i, fmt.Errorf("webhooks: enqueue %s: %w", e.ID, err)
		}
	}
	return len(due), nil
}

// Deliver makes one attempt at the event the task key (id:lease) names,
// if its lease is still the event's, and records it. Errors are the
// store's (River retries them); a receiver's failure is recorded, not
// returned.
func (s *Service) Deliver(ctx context.Context, key string) error {
	id, lease, _ := strings.Cut(key, ":")
	start := s.cfg.Now()
	e, w, ok, err := s.st.StartAttempt(ctx, id, lease, start.Add(s.cfg.Timeout+30*time.Second))
	if err != nil || !ok {
		return err
	}
	secret, err := s.sealer.Open(ctx, w.SecretBox, secretAD(w.ClientID))
	if err != nil {
		// grantflow's fault, not the receiver's: retried when the lease lapses.
		return fmt.Errorf("webhooks: open the secret of %s: %w", w.ClientID, err)
	}
	a := s.post(ctx, e, w.URL, string(secret))
	a.At = start
	res := store.WebhookAttemptResult{Attempt: a, Delivered: a.Error == ""}
	if !res.Delivered {
		if n := e.Attempts; n < len(s.cfg.Backoff) {
			res.NextAttemptAt = s.cfg.Now().Add(s.cfg.Backoff[n])
		}
		res.DisableAfter = s.cfg.DisableAfter
		res.FailingBefore = start.Add(-s.cfg.DisableAfterFor)
		res.DisableReason = fmt.Sprintf("Disabled on %s after failed deliveries (%d in a row or every one for %s; the last: %s). Set the URL again to resume.",
			start.UTC().Format("2006-01-02 15:04 UTC"), s.cfg.DisableAfter, s.cfg.DisableAfterFor, a.Error)
	}
	after, err := s.st.FinishAttempt(ctx, id, lease, res)
	if errors.Is(err, store.ErrConflict) {
		return nil // another delivery took it over after our lease lapsed
	}
	if err != nil {
		return err
	}
	s.lg.InfoContext(ctx, "webhook attempt", "event", e.ID, "type", e.Type, "client_id", e.ClientID, "attempt", e.Attempts+1,
		"status", a.Status, "err", a.Error, "duration", a.Duration)
	if w.Enabled && !after.Enabled {
		s.lg.WarnContext(ctx, "webhook disabled", "client_id", w.ClientID, "reason", after.DisabledReason)
		if s.audit != nil {
			_ = s.audit.Record(ctx, store.AuditEvent{Action: "webhook.disabled", ActorClientID: w.ClientID, Target: w.ClientID,
				Details: map[string]string{"url": w.URL, "failures": fmt.Sprint(after.ConsecutiveFailures), "last_error": a.Error}})
		}
	}
	return nil
}

// post sends one signed attempt. The attempt's Error is "" for a 2xx.
func (s *Service) post(ctx context.Context, e store.WebhookEvent, url, secret string) store.WebhookAttempt {
	var a store.WebhookAttempt
	b := body(e)
	now := s.cfg.Now()
	sig, err := Sign(secret, e.ID, now, b)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		a.Error = err.Error()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "grantflow-webhooks/1")
	req.Header.Set(HeaderID, e.ID)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(now.Unix()))
	req.Header.Set(HeaderSignature, sig)
	t0 := time.Now()
	resp, err := s.cfg.Client.Do(req)
	a.Duration = time.Since(t0)
	if err != nil {
		a.Error = describe(err, s.cfg.Timeout)
		return a
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	a.Status, a.Body = resp.StatusCode, validUTF8(raw)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		a.Error = fmt.Sprintf("HTTP %d (redirects are not followed)", resp.StatusCode)
	default:
		a.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return a
}

// describe words a transport error for the integration's page.
func describe(err error, timeout time.Duration) string {
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	return err.Error()
}

// validUTF8 keeps a truncated answer storable and printable (it may end
// mid-rune; PostgreSQL text holds no NUL).
func validUTF8(b []byte) string {
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), string(utf8.RuneError)), "\x00", "")
}

// Prune deletes events finished longer ago than the retention, and the
// webhooks of deleted integrations with nothing left to deliver.
func (s *Service) Prune(ctx context.Context) error {
	_, err := s.st.PruneWebhooks(ctx, s.cfg.Now().Add(-s.cfg.Retention))
	return err
}
