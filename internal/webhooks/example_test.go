package webhooks_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/webhooks"
)

// A receiver checks a delivery with the integration's signing secret.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"type":"grant.revoked","timestamp":"2026-12-01T12:00:00Z","data":{"client_id":"gfc_1","organization_id":"1","grant_id":"g1","reason":"revoked_by_client"}}`)
	at := time.Unix(1_796_126_400, 0)
	sig, _ := webhooks.Sign(secret, "msg_1", at, body)

	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", fmt.Sprint(at.Unix()))
	h.Set("webhook-signature", sig)
	fmt.Println(webhooks.Verify(secret, h, body, at.Add(time.Minute)))
	fmt.Println(webhooks.Verify(secret, h, []byte(`{"type":"client.deleted"}`), at) != nil)
	fmt.Println(webhooks.Verify(secret, h, body, at.Add(time.Hour)) != nil)
	// Output:
	// <nil>
	// true
	// true
}

// TestSignStandardVector: the Standard Webhooks libraries' own test vector.
func TestSignStandardVector(t *testing.T) {
	t.Parallel()
	got, err := webhooks.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; err != nil || got != want {
		t.Fatalf("Sign = %q, %v; want %q", got, err, want)
	}
}
