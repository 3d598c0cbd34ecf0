// Command grantflow is one program with three parts over one store: a
// Meraki-compatible OAuth 2.0 authorization server, a Meraki Dashboard API
// sandbox, and automation in the manner of Cisco Workflows. This package only
// parses flags and wires the parts together; see internal/server.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/workflow"
)

// cli is what every command gets: its streams and environment.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// stdoutIsTerminal decides where first-start login details go.
	stdoutIsTerminal bool
}

// command is one runnable command: `grantflow NAME [SUB] flags...`.
type command struct {
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

var commands = map[string]command{
	"serve":    {"run the server", runServe},
	"org":      {"org create|list: manage organizations", runOrg},
	"admin":    {"admin create|set-password: manage administrator accounts", runAdmin},
	"app":      {"app create|list|update|rotate-secret|delete: manage integrations", runApp},
	"apikey":   {"apikey create|list|revoke --admin EMAIL: manage Dashboard API keys", runAPIKey},
	"seed":     {"seed --org ID [--networks N] [--devices N]: fill an organization with networks and devices", runSeed},
	"loadtest": {"loadtest: measure /oauth/token, /oauth/introspect and /api/v1 over loopback", runLoadtest},
	"tenant":   {"tenant create|list|role: Automation tenants, their target and tokens' state, roles", runTenant},
	"target":   {"target list|update|test: a tenant's targets; call getOrganization through its Meraki target", runTarget},
	"keys":     {"keys rotate: new Automation data key, re-seal every token", runKeys},
	"workflow": {"workflow import|list|export|run|secret: Cisco Workflows exports in a tenant", runWorkflow},
	"run":      {"run show|list|answer|cancel: workflow runs", runRun},
	"schedule": {"schedule create|list|show|enable|disable|delete: scheduled runs on the Org-scoped token", runSchedule},
	"webhook":  {"webhook list|show|enable|disable|rotate-secret|delete: inbound webhooks that start workflows", runWebhook},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fi, _ := os.Stdout.Stat()
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		stdoutIsTerminal: fi != nil && fi.Mode()&os.ModeCharDevice != 0}
	os.Exit(run(ctx, c, os.Args[1:]))
}

func run(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(c.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(c.stderr, "grantflow: unknown command %q\n\n", args[0])
		usage(c.stderr)
		return 2
	}
	if err := cmd.run(ctx, c, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var sh subcommandHelp
		if errors.As(err, &sh) {
			fmt.Fprintf(c.stderr, "usage: grantflow %s SUBCOMMAND [flags]\n\n%s\n\nsubcommands: %s\nRun `grantflow %s SUBCOMMAND -h` for its flags.\n",
				args[0], cmd.summary, strings.Join(sh.valid, ", "), args[0])
			return 0
		}
		fmt.Fprintf(c.stderr, "grantflow %s: %v\n", args[0], workflow.Plain(err))
		if errors.As(err, new(usageError)) {
			return 2
		}
		if errors.Is(err, workflow.ErrForbidden) || errors.Is(err, automation.ErrForbidden) {
			return 3
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: grantflow COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set as GRANTFLOW_<FLAG>, e.g. GRANTFLOW_DATABASE_URL.\nRun `grantflow COMMAND -h` for its flags.")
}

// usageError is a mistake in how a command was called (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// subcommandHelp is `grantflow COMMAND -h` of a command with subcommands:
// run lists them and exits 0.
type subcommandHelp struct{ valid []string }

func (subcommandHelp) Error() string { return "help requested" }

// subcommand splits "create --flags" into "create" and the rest.
func subcommand(args []string, valid ...string) (string, []string, error) {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		return "", nil, subcommandHelp{valid}
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", nil, usagef("missing subcommand: want one of %s", strings.Join(valid, ", "))
	}
	for _, v := range valid {
		if args[0] == v {
			return v, args[1:], nil
		}
	}
	return "", nil, usagef("unknown subcommand %q: want one of %s", args[0], strings.Join(valid, ", "))
}

// parse parses args into fs and applies the environment; cfg has been
// bound to fs by the caller. Positional arguments are refused.
func (c *cli) parse(fs *flag.FlagSet, args []string) error { return c.parseRest(fs, args, nil) }

// parseRest is parse for commands that take positional arguments (file
// names, after the flags): they go to *rest. A nil rest refuses them.
func (c *cli) parseRest(fs *flag.FlagSet, args []string, rest *[]string) error {
	fs.SetOutput(c.stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if rest != nil {
		*rest = fs.Args()
	} else if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := config.ApplyEnv(fs, c.getenv); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// logger builds the process logger from the configuration; commands other
// than serve log warnings and errors only, to stderr.
func (c *cli) logger(cfg config.Config, quiet bool) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	if quiet && level < slog.LevelWarn {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(c.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(c.stderr, opts))
}

// openStore opens the configured store: PostgreSQL when --database-url is
// set, else SQLite in --data-dir (created on first use).
func openStore(ctx context.Context, cfg config.Config, lg *slog.Logger) (*sqlstore.Store, error) {
	if cfg.DatabaseURL != "" {
		return sqlstore.OpenPostgres(ctx, cfg.DatabaseURL, lg)
	}
	return sqlstore.OpenSQLite(ctx, cfg.SQLitePath(), lg)
}

// storeCommand is the shared setup of the administration commands: bind
// the store flags plus the command's own, parse, validate, open the store.
func (c *cli) storeCommand(ctx context.Context, name string, args []string, bind func(fs *flag.FlagSet)) (*sqlstore.Store, *slog.Logger, error) {
	cfg := config.Default()
	return c.storeCommandWith(ctx, &cfg, name, args, bind)
}

// storeCommandWith is storeCommand over the caller's cfg, for commands
// that bind (and then use) more of the configuration.
func (c *cli) storeCommandWith(ctx context.Context, cfg *config.Config, name string, args []string, bind func(fs *flag.FlagSet)) (*sqlstore.Store, *slog.Logger, error) {
	return c.storeCommandRest(ctx, cfg, name, args, bind, nil)
}

// storeCommandRest is storeCommandWith for commands that take positional
// arguments (see parseRest).
func (c *cli) storeCommandRest(ctx context.Context, cfg *config.Config, name string, args []string, bind func(fs *flag.FlagSet), rest *[]string) (*sqlstore.Store, *slog.Logger, error) {
	fs := flag.NewFlagSet("grantflow "+name, flag.ContinueOnError)
	cfg.BindStore(fs)
	if bind != nil {
		bind(fs)
	}
	if err := c.parseRest(fs, args, rest); err != nil {
		return nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, usageError{err.Error()}
	}
	lg := c.logger(*cfg, true)
	st, err := openStore(ctx, *cfg, lg)
	if err != nil {
		return nil, nil, err
	}
	return st, lg, nil
}

// printJSON writes v as indented JSON.
func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
