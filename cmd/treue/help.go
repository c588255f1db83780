package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/treue/treue/config"
)

// command describes one command or subcommand for its usage text. Help is
// answered from these descriptions before a command runs, so that --help
// never opens a database, creates a key file or reads a file argument.
type command struct {
	path  string // "tokens create"
	args  string // what follows the path in a call, "--name NAME [--role support|admin]"
	about string
	// flags builds the command's flag set, the same one the command parses,
	// so that the help lists exactly the flags it takes. nil: no flags.
	flags func() *flag.FlagSet
}

// commands lists every command in the order the usage shows them.
func commands() []command {
	return []command{
		{path: "serve", about: "run the service: HTTP, the inbox processor, the dispatcher, the customer scan, rules hot reload"},
		{path: "migrate", about: "apply database migrations and print the version reached"},
		{path: "version", about: "print the version"},
		{path: "tokens create", args: "--name NAME [--role support|admin]",
			about: "create an API token (printed once, alone on the last line)",
			flags: func() *flag.FlagSet { return new(tokenCreateFlags).flagSet() }},
		{path: "tokens list", about: "list tokens (never the tokens themselves)"},
		{path: "tokens revoke", args: "NAME", about: "revoke a token"},
		{path: "customers export", args: "--shop KEY (--email E | --number N | --shop-customer-id ID | --id TREUE_ID)",
			about: "print everything Treue holds about a customer as JSON (GDPR Art. 15)",
			flags: func() *flag.FlagSet { return new(customerFlags).flagSet("customers export") }},
		{path: "customers erase", args: "--shop KEY (--email E | ...) --yes",
			about: "erase a customer's personal data (GDPR Art. 17)",
			flags: func() *flag.FlagSet { return new(customerFlags).flagSet("customers erase") }},
		{path: "actions list", args: "--shop KEY [--status dead] [--limit N]",
			about: "list a shop's actions (default: the dead ones)",
			flags: func() *flag.FlagSet { return new(actionsListFlags).flagSet() }},
		{path: "actions retry", args: "ID", about: "put a dead action back in the queue"},
		{path: "actions cancel", args: "ID", about: "cancel an action that was not sent"},
		{path: "inbox list", args: "[--shop KEY] [--status unparsed|failed|pending|done] [--limit N]",
			about: "list stored deliveries with their status and reason, newest first",
			flags: func() *flag.FlagSet { return new(inboxFlags).flagSet("inbox list") }},
		{path: "inbox replay", args: "[--shop KEY] [--status unparsed|failed] [ID...]",
			about: "put unparsed or failed deliveries back into the queue",
			flags: func() *flag.FlagSet { return new(inboxFlags).flagSet("inbox replay") }},
		{path: "report rules", args: "--shop KEY [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|json|csv]",
			about: "what each rule achieves against its holdout group: counts, rates, uplift with its 95 % interval, revenue, cost",
			flags: func() *flag.FlagSet { return new(reportFlags).flagSet("report rules") }},
		{path: "report loyalty", args: "--shop KEY [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|json|csv]",
			about: "repurchase rate, days between orders, customers per stage, monthly cohorts",
			flags: func() *flag.FlagSet { return new(reportFlags).flagSet("report loyalty") }},
		{path: "report budget", args: "--shop KEY [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|json]",
			about: "incentive spend against the monthly budget, per month and rule, with what the budget held back",
			flags: func() *flag.FlagSet { return new(reportFlags).flagSet("report budget") }},
		{path: "import", args: "--shop KEY --since YYYY-MM-DD [--dry-run]",
			about: "read the shop's orders since the date from its API into the journeys (resumable; history plans nothing due in the past)",
			flags: func() *flag.FlagSet { return new(importFlags).flagSet() }},
		{path: "rules check", args: "FILE...", about: "check rules files; print every problem as FILE:LINE:COL: message"},
		{path: "rules simulate", args: "--shop KEY [--since YYYY-MM-DD] [--customers N] FILE",
			about: "replay the shop's stored journeys through FILE's rules and compare with what the rules in force planned",
			flags: func() *flag.FlagSet { return new(simulateFlags).flagSet() }},
		{path: "healthcheck", args: "[URL]",
			about: "exit 0 when a running treue is ready (default: /readyz on http.addr, e.g. http://localhost:8080/readyz)"},
		{path: "shops list", about: "list shops"},
		{path: "shops add", args: "--key KEY --platform PLATFORM [flags]", about: "add or update a shop",
			flags: func() *flag.FlagSet { return shopsAddFlags(new(config.Shop)) }},
		{path: "shops remove", args: "KEY --yes", about: "remove a shop and everything recorded for it",
			flags: func() *flag.FlagSet { return shopsRemoveFlags(new(bool)) }},
		{path: "shops unregister", args: "KEY", about: "forget a Shopware shop's app registration (as app.deleted does)"},
	}
}

// newFlagSet is a flag set that reports errors to its caller instead of
// printing them: usage errors are printed once, by main.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// usage is the top-level usage text.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: treue [--config FILE] COMMAND [ARGS]\n\ncommands:\n")
	writeCommands(&b, commands())
	b.WriteString("\n`treue COMMAND --help` shows a command's flags. --config FILE (or TREUE_CONFIG)\n" +
		"may come before or after the command. Every setting can also come from a\n" +
		"TREUE_<SECTION>_<KEY> environment variable, e.g. TREUE_HTTP_ADDR=:9090.")
	return b.String()
}

// writeCommands lists cmds one per line, the description beside a short call
// and below a long one.
func writeCommands(b *strings.Builder, cmds []command) {
	const col = 24
	indent := strings.Repeat(" ", col)
	for _, c := range cmds {
		call := strings.TrimSpace(c.path + " " + c.args)
		about := wrap(c.about, 80-col, indent)
		if len(call) <= col-4 {
			fmt.Fprintf(b, "  %-*s%s\n", col-2, call, about)
		} else {
			fmt.Fprintf(b, "  %s\n%s%s\n", call, indent, about)
		}
	}
}

// wrap breaks text into lines of at most width characters (a longer word
// stays whole), indenting every line but the first.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(text) {
		switch {
		case i == 0:
		case n+1+len(w) > width:
			b.WriteString("\n" + indent)
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// commandUsage is the usage of one command, with its flags.
func commandUsage(c command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: treue [--config FILE] %s\n\n%s\n", strings.TrimSpace(c.path+" "+c.args), wrap(c.about, 80, ""))
	if c.flags != nil {
		fs := c.flags()
		var flags bytes.Buffer
		fs.SetOutput(&flags)
		fs.PrintDefaults()
		b.WriteString("\nflags:\n")
		b.Write(flags.Bytes())
	}
	return strings.TrimRight(b.String(), "\n")
}

// usageOf is the usage of the command at path ("tokens create"), or of the
// group of subcommands path names ("tokens"); ok is false for an unknown path.
func usageOf(path string) (text string, ok bool) {
	var group []command
	for _, c := range commands() {
		if c.path == path {
			return commandUsage(c), true
		}
		if strings.HasPrefix(c.path, path+" ") {
			group = append(group, c)
		}
	}
	if len(group) == 0 {
		return "", false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "usage: treue [--config FILE] %s COMMAND [ARGS]\n\ncommands:\n", path)
	writeCommands(&b, group)
	fmt.Fprintf(&b, "\n`treue %s COMMAND --help` shows a command's flags.", path)
	return b.String(), true
}

// mustUsage is the usage of a command the code knows exists.
func mustUsage(path string) string {
	text, ok := usageOf(path)
	if !ok {
		panic("treue: no usage for command " + path)
	}
	return text
}

// helpPath reports whether args (a command's arguments, after the command
// name) ask for help, and which command's usage answers: the subcommand
// when one is named, else the command itself. A flag after "--" is an
// argument, not a request for help.
func helpPath(cmd string, args []string) (string, bool) {
	asked := len(args) > 0 && args[0] == "help"
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			asked = true
		}
	}
	if !asked {
		return "", false
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if _, ok := usageOf(cmd + " " + args[0]); ok {
			return cmd + " " + args[0], true
		}
	}
	return cmd, true
}
