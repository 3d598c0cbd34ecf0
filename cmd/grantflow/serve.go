package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/server"
)

func runServe(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("grantflow serve", flag.ContinueOnError)
	cfg.BindServe(fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	lg := c.logger(cfg, false)
	st, err := openStore(ctx, cfg, lg)
	if err != nil {
		return err
	}
	defer st.Close()

	srv, err := server.New(ctx, cfg, st, lg, server.Options{})
	if err != nil {
		return err
	}
	if !cfg.NoDemo {
		demo, err := srv.CreateDemo(ctx)
		if err != nil {
			return fmt.Errorf("create demo data: %w", err)
		}
		if demo != nil {
			if err := c.showInitialAdmin(cfg, demo); err != nil {
				return err
			}
			lg.Info("created demo organization", "org", demo.OrgID, "email", demo.Email)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	return srv.Serve(ctx, ln)
}

// showInitialAdmin shows the demo login once: on the terminal when stdout
// is one, otherwise in DATA_DIR/initial-admin.txt (mode 0600), so the
// password never lands in a log collector.
func (c *cli) showInitialAdmin(cfg config.Config, d *server.Demo) error {
	text := fmt.Sprintf("grantflow demo login\n  URL:          %s/login\n  Email:        %s\n  Password:     %s\n  Organization: %s (%s)\nChange the password with: grantflow admin set-password --email %s --password-stdin\n",
		cfg.IssuerURL(), d.Email, d.Password, d.OrgName, d.OrgID, d.Email)
	if c.stdoutIsTerminal {
		_, err := fmt.Fprint(c.stdout, "\n"+text+"\n")
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(cfg.DataDir, "initial-admin.txt")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return err
	}
	abs, _ := filepath.Abs(path)
	fmt.Fprintf(c.stdout, "grantflow: demo login details written to %s\n", abs)
	return nil
}
