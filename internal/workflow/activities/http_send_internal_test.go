package activities

import (
	"net/url"
	"testing"
	"time"
)

func TestMerakiURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ base, path, want string }{
		{"https://api.meraki.com/api/v1", "/api/v1/organizations", "https://api.meraki.com/api/v1/organizations"},
		{"https://api.meraki.com/api/v1/", "/api/v1/organizations/1/devices?perPage=5", "https://api.meraki.com/api/v1/organizations/1/devices?perPage=5"},
		{"http://127.0.0.1:8080/api/v1", "/organizations", "http://127.0.0.1:8080/api/v1/organizations"},
		{"http://127.0.0.1:8080/api/v1", "api/v1/networks/N_1", "http://127.0.0.1:8080/api/v1/networks/N_1"},
		{"http://127.0.0.1:8080", "/api/v1/networks", "http://127.0.0.1:8080/api/v1/networks"},
		{"http://127.0.0.1:8080/api/v1", "/api/v10/x", "http://127.0.0.1:8080/api/v1/api/v10/x"},
		{"http://h/api/v1", "/api/v1/devices/Q2XX ABCD", "http://h/api/v1/devices/Q2XX%20ABCD"},
	}
	for _, tc := range tests {
		if got, err := merakiURL(tc.base, tc.path); err != nil || got != tc.want {
			t.Errorf("merakiURL(%q, %q) = %q, %v; want %q", tc.base, tc.path, got, err, tc.want)
		}
	}
	if _, err := merakiURL("https://api.meraki.com/api/v1", "https://evil.example/api/v1/x"); err == nil {
		t.Error("a whole URL was accepted as api_url")
	}
}

func TestMerakiSendsBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, body string
		want         bool
	}{
		{"GET", "{\n\t\n}", false}, {"GET", "  ", false}, {"DELETE", "{}", false}, {"GET", `{"a":1}`, true},
		{"POST", "{\n\t\n}", true}, {"POST", "", false}, {"PUT", `{"name":"x"}`, true},
	}
	for _, tc := range tests {
		if got := merakiSendsBody(tc.method, tc.body); got != tc.want {
			t.Errorf("merakiSendsBody(%s, %q) = %v", tc.method, tc.body, got)
		}
	}
}

func TestSameSite(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://api.meraki.com/api/v1")
	for u, want := range map[string]bool{
		"https://api.meraki.com/x": true, "https://n123.meraki.com/api/v1/x": true, "https://meraki.com/x": true,
		"http://n123.meraki.com/x": false, "https://evil.com/x": false, "https://meraki.com.evil.com/x": false, "https://127.0.0.1/x": false,
	} {
		p, _ := url.Parse(u)
		if got := sameSite(base, p); got != want {
			t.Errorf("sameSite(%s) = %v", u, got)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"2", 2 * time.Second, true}, {"0.5", 500 * time.Millisecond, true}, {"", 0, false}, {"soon", 0, false},
		{"Wed, 01 Jan 2025 00:00:10 GMT", 10 * time.Second, true}, {"Tue, 31 Dec 2024 00:00:00 GMT", 0, true},
	}
	for _, tc := range tests {
		if got, ok := retryAfter(tc.v, now); got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %s, %v", tc.v, got, ok)
		}
	}
	p := httpRetry
	for n := range 8 {
		if d := p.backoff(n); d < min(p.base<<n, p.longest)/2 || d > p.longest {
			t.Errorf("backoff(%d) = %s", n, d)
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://h/v2/x?access_token=abc&vdom=root":           "https://h/v2/x?access_token=*****&vdom=root",
		"https://api.openweathermap.org/w?zip=1,us&appid=k3y": "https://api.openweathermap.org/w?zip=1,us&appid=*****",
		"https://u:pw@h/x": "https://u:%2A%2A%2A%2A%2A@h/x",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
