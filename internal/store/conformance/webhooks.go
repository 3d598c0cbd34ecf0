package conformance

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

func init() {
	register("Webhooks", testWebhooks)
}

func webhooksOf(t *testing.T, s store.Store) store.Webhooks {
	t.Helper()
	ws, ok := s.(store.WebhookStore)
	if !ok {
		t.Fatalf("%T keeps no webhooks", s)
	}
	return ws.Webhooks()
}

func testWebhooks(t *testing.T, s store.Store) {
	ctx := context.Background()
	ws := webhooksOf(t, s)
	seedTenant(t, s, "100", "ten_1")
	a := store.Webhook{ID: "wh_a", TenantID: "ten_1", ExternalID: "webhook_a", Name: "Inbound", ContentType: "application/json",
		Rules: []byte(`[{"id":"ruleevent_a"}]`), Source: "import", CreatedAt: t0, UpdatedAt: t0}
	must(t, ws.CreateWebhook(ctx, a))
	b := a
	b.ID = "wh_b"
	if err := ws.CreateWebhook(ctx, b); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a taken external id: %v", err)
	}
	if err := ws.CreateWebhook(ctx, a); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a taken id: %v", err)
	}
	b.ExternalID, b.TenantID = "webhook_b", "ten_nope"
	if err := ws.CreateWebhook(ctx, b); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a missing tenant: %v", err)
	}
	b.TenantID, b.CreatedAt = "ten_1", t0.Add(time.Second)
	must(t, ws.CreateWebhook(ctx, b))

	got, err := ws.GetWebhook(ctx, "wh_a")
	must(t, err)
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("get:\n got %+v\nwant %+v", got, a)
	}
	if got, err := ws.GetWebhookByExternal(ctx, "ten_1", "webhook_b"); err != nil || got.ID != "wh_b" {
		t.Fatalf("by external id: %+v %v", got, err)
	}
	if _, err := ws.GetWebhookByExternal(ctx, "ten_2", "webhook_b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant's: %v", err)
	}
	list, err := ws.ListWebhooks(ctx, "ten_1")
	must(t, err)
	if len(list) != 2 || list[0].ID != "wh_a" || list[1].ID != "wh_b" {
		t.Fatalf("list: %+v", list)
	}

	at := t0.Add(time.Hour)
	up, err := ws.UpdateWebhook(ctx, "wh_a", func(w *store.Webhook) error {
		w.Enabled, w.SecretHash, w.SecretBox, w.SecretAt, w.UpdatedAt = true, []byte{1, 2, 3}, "sealed", at, at
		w.Rules, w.Reason = []byte(`[]`), "why"
		w.Source, w.CreatedBy, w.ExternalID = "api", "mallory", "webhook_x" // cannot change
		return nil
	})
	must(t, err)
	got, err = ws.GetWebhook(ctx, "wh_a")
	must(t, err)
	if !reflect.DeepEqual(got, up) || !got.Enabled || string(got.SecretHash) != "\x01\x02\x03" || got.SecretBox != "sealed" ||
		!got.SecretAt.Equal(at) || got.Source != "import" || got.CreatedBy != "" || got.ExternalID != "webhook_a" || string(got.Rules) != "[]" {
		t.Fatalf("updated:\n got %+v\nwant %+v", got, up)
	}
	boom := errors.New("boom")
	if _, err := ws.UpdateWebhook(ctx, "wh_a", func(w *store.Webhook) error { w.Enabled = false; return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	if got, _ := ws.GetWebhook(ctx, "wh_a"); !got.Enabled {
		t.Fatal("a failed update changed the webhook")
	}
	if _, err := ws.UpdateWebhook(ctx, "wh_nope", func(*store.Webhook) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	must(t, ws.DeleteWebhook(ctx, "wh_a"))
	if err := ws.DeleteWebhook(ctx, "wh_a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := ws.GetWebhook(ctx, "wh_a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
}
