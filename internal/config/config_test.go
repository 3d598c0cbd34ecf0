package config

import (
	"flag"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.IssuerURL(); got != "http://127.0.0.1:8080" {
		t.Fatalf("IssuerURL = %q", got)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Addr = "nope"
	c.Issuer = "ftp://x"
	c.LogLevel = "loud"
	c.DatabaseURL = "mysql://x"
	c.TrustedProxies = []string{"10.0.0.1"}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	for _, want := range []string{"--addr", "--issuer", "--log-level", "--database-url", "--trusted-proxy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestFlagsAndEnvironment(t *testing.T) {
	t.Parallel()
	c := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.BindServe(fs)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:9999"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GRANTFLOW_ADDR":          "127.0.0.1:1111", // the flag wins
		"GRANTFLOW_DATABASE_URL":  "postgres://u@h/db",
		"GRANTFLOW_NO_DEMO":       "true",
		"GRANTFLOW_TRUSTED_PROXY": "10.0.0.0/8, 192.168.0.0/16",
	}
	if err := ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || c.DatabaseURL != "postgres://u@h/db" || !c.NoDemo || len(c.TrustedProxies) != 2 {
		t.Fatalf("config = %+v", c)
	}
	bad := map[string]string{"GRANTFLOW_SESSION_IDLE": "soon"}
	fs2 := flag.NewFlagSet("serve", flag.ContinueOnError)
	c2 := Default()
	c2.BindServe(fs2)
	_ = fs2.Parse(nil)
	if err := ApplyEnv(fs2, func(k string) string { return bad[k] }); err == nil || !strings.Contains(err.Error(), "GRANTFLOW_SESSION_IDLE") {
		t.Fatalf("bad env value: %v", err)
	}
}
