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

	"github.com/treue/treue/models/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	code := exitCode(m.Run(ctx, os.Args[1:]), os.Stderr)
	stop()
	os.Exit(code)
}

// exitCode prints what went wrong and answers the exit status: 0 for
// success, 2 for a usage error, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if err != errSilentFailure {
		fmt.Fprintln(stderr, "treue:", err)
	}
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
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
	// Statements, when set, is told every statement the store sends (tests
	// capture them for the Vitess planner check, deploy/vitess/check).
	Statements store.StatementRecorder
	// ShopifyAPI, when set, is the base URL the stock lookups read Shopify's
	// Admin API at instead of https://<shop domain> (tests run a fake shop).
	ShopifyAPI string
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Run parses global flags and dispatches to a command.
func (m *Main) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("treue", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configPath := fs.String("config", "", "YAML config `FILE`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(m.Stdout, usage())
			return nil
		}
		return usageError{err.Error() + "\n" + usage()}
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	if explicit && *configPath == "" {
		return usageError{"--config needs a FILE\n" + usage()}
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usageError{"no command\n" + usage()}
	}
	cmd, cargs := rest[0], rest[1:]
	if cmd == "help" {
		return m.help(cargs)
	}
	// Help is answered before anything else looks at the arguments, so that
	// it never opens the database or reads a file.
	if path, ok := helpPath(cmd, cargs); ok {
		text, known := usageOf(path)
		if !known {
			return usageError{fmt.Sprintf("unknown command %q\n%s", cmd, usage())}
		}
		fmt.Fprintln(m.Stdout, text)
		return nil
	}
	// `treue serve --config FILE` must not quietly run on the defaults.
	cargs, after, err := liftConfig(cargs)
	if err != nil {
		return usageError{fmt.Sprintf("%s: %v\n%s", cmd, err, usage())}
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
			return usageError{fmt.Sprintf("%s takes no arguments, got %q\n%s", cmd, cargs[0], mustUsage(cmd))}
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
		return m.healthcheck(ctx, *configPath, cargs)
	case "import":
		return m.importCmd(ctx, *configPath, cargs)
	default:
		return usageError{fmt.Sprintf("unknown command %q\n%s", cmd, usage())}
	}
}

// help runs `treue help [COMMAND...]`.
func (m *Main) help(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(m.Stdout, usage())
		return nil
	}
	text, ok := usageOf(strings.Join(args, " "))
	if !ok {
		return usageError{fmt.Sprintf("help: unknown command %q\n%s", strings.Join(args, " "), usage())}
	}
	fmt.Fprintln(m.Stdout, text)
	return nil
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
