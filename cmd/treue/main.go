// Command treue is the Treue loyalty sidecar: it receives shop webhooks,
// records customer journeys and plans loyalty actions.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "treue:", err)
			os.Exit(2)
		}
		if err != errSilentFailure {
			fmt.Fprintln(os.Stderr, "treue:", err)
		}
		os.Exit(1)
	}
}

// Main is the program with its environment made explicit, so tests run the
// real thing in-process.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Ready, when set, is told the address serve listens on (tests use ":0").
	Ready func(addr string)
	// Logger overrides the logger built from config (tests capture logs).
	Logger *slog.Logger
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: treue [--config FILE] COMMAND

commands:
  serve                 run the service (HTTP, inbox processor)
  migrate               apply database migrations and print the version reached
  version               print the version
  tokens create --name NAME --role support|admin
                        create an API token (printed once, alone on the last line)
  tokens list | tokens revoke NAME
  customers export --shop KEY (--email E | --number N | --shop-customer-id ID | --id TREUE_ID)
                        print everything Treue holds about a customer as JSON (GDPR Art. 15)
  customers erase --shop KEY (--email E | ...) --yes
                        erase a customer's personal data (GDPR Art. 17)
  actions list --shop KEY [--status dead]
  actions retry ID | actions cancel ID
                        list, replay or cancel actions (dead ones above all)
  inbox list [--shop KEY] [--status unparsed|failed|pending|done] [--limit N]
  inbox replay [--shop KEY] [--status unparsed|failed] [ID...]
                        list stored deliveries; process unparsed or failed ones again
  report rules --shop KEY [--from DATE] [--to DATE] [--format table|json|csv]
                        what each rule achieves against its holdout group
  report loyalty --shop KEY [--from DATE] [--to DATE] [--format table|json|csv]
                        repurchase rate, days between orders, stages, cohorts
  rules check FILE...   check rules files; print every problem as FILE:LINE:COL: message
  rules simulate --shop KEY [--since DATE] [--customers N] FILE
                        replay the shop's stored journeys through FILE's rules and
                        compare with what the rules in force planned
  healthcheck [URL]     exit 0 when a running treue is ready (default http://127.0.0.1:8080/readyz)
  shops list            list shops
  shops add ...         add or update a shop (treue shops add --help)
  shops remove KEY --yes
                        remove a shop and everything recorded for it
  shops unregister KEY  forget a Shopware shop's app registration (as app.deleted does)

Every setting can also come from TREUE_<SECTION>_<KEY> environment variables.`

// Run parses global flags and dispatches to a command.
func (m *Main) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("treue", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configPath := fs.String("config", "", "YAML config `FILE`")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error() + "\n" + usage}
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	if explicit && *configPath == "" {
		return usageError{"--config needs a FILE\n" + usage}
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usageError{"no command\n" + usage}
	}
	cmd, cargs := rest[0], rest[1:]
	// `treue serve --config FILE` must not quietly run on the defaults.
	cargs, after, err := liftConfig(cargs)
	if err != nil {
		return usageError{fmt.Sprintf("%s: %v\n%s", cmd, err, usage)}
	}
	switch {
	case after != "" && *configPath != "" && after != *configPath:
		return usageError{fmt.Sprintf("%s: --config given twice (%s and %s)", cmd, *configPath, after)}
	case after != "":
		*configPath = after
	case *configPath == "":
		*configPath = m.Getenv("TREUE_CONFIG")
	}
	switch cmd {
	case "serve", "migrate", "version":
		if len(cargs) > 0 {
			if cargs[0] == "-h" || cargs[0] == "--help" || cargs[0] == "help" {
				fmt.Fprintln(m.Stdout, usage)
				return nil
			}
			return usageError{fmt.Sprintf("%s takes no arguments, got %q\n%s", cmd, cargs[0], usage)}
		}
	}
	switch cmd {
	case "serve":
		return m.serve(ctx, *configPath)
	case "migrate":
		return m.migrate(ctx, *configPath)
	case "version":
		fmt.Fprintln(m.Stdout, "treue", buildVersion())
		return nil
	case "shops":
		return m.shops(ctx, *configPath, cargs)
	case "rules":
		return m.rulesCmd(ctx, *configPath, cargs)
	case "customers":
		return m.customers(ctx, *configPath, cargs)
	case "actions":
		return m.actions(ctx, *configPath, cargs)
	case "inbox":
		return m.inbox(ctx, *configPath, cargs)
	case "report":
		return m.report(ctx, *configPath, cargs)
	case "tokens":
		return m.tokens(ctx, *configPath, cargs)
	case "healthcheck":
		return m.healthcheck(ctx, cargs)
	case "help", "-h", "--help":
		fmt.Fprintln(m.Stdout, usage)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown command %q\n%s", cmd, usage)}
	}
}

// liftConfig takes a --config flag out of a command's arguments: it is a
// global flag, and no command has one of its own. Arguments after "--" are
// left alone.
func liftConfig(args []string) (rest []string, path string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i:]...), path, nil
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return nil, "", errors.New("--config needs a FILE")
			}
			i++
			value = args[i]
		}
		if value == "" {
			return nil, "", errors.New("--config needs a FILE")
		}
		if path != "" && value != path {
			return nil, "", fmt.Errorf("--config given twice (%s and %s)", path, value)
		}
		path = value
	}
	return rest, path, nil
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}
