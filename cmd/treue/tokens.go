package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/treue/treue/models"
)

// tokenCreateFlags are the flags of `tokens create`.
type tokenCreateFlags struct{ name, role string }

func (f *tokenCreateFlags) flagSet() *flag.FlagSet {
	fs := newFlagSet("tokens create")
	fs.StringVar(&f.name, "name", "", "the token's `NAME`: who or what uses it (required)")
	fs.StringVar(&f.role, "role", "support", "support or admin")
	return fs
}

func (m *Main) tokens(ctx context.Context, configPath string, args []string) error {
	if len(args) == 0 {
		return usageError{mustUsage("tokens")}
	}
	// Arguments are checked before the database is opened: a mistyped
	// command creates nothing.
	var create tokenCreateFlags
	switch args[0] {
	case "create":
		if err := create.flagSet().Parse(args[1:]); err != nil || create.name == "" {
			return usageError{mustUsage("tokens create")}
		}
		if !models.Role(create.role).Valid() {
			return usageError{fmt.Sprintf("--role: must be support or admin, got %q", create.role)}
		}
	case "list":
		if len(args) != 1 {
			return usageError{mustUsage("tokens list")}
		}
	case "revoke":
		if len(args) != 2 {
			return usageError{mustUsage("tokens revoke")}
		}
	default:
		return usageError{fmt.Sprintf("tokens: unknown command %q\n%s", args[0], mustUsage("tokens"))}
	}
	e, err := m.openReady(ctx, configPath, false)
	if err != nil {
		return err
	}
	defer e.store.Close()
	switch args[0] {
	case "create":
		tok, t, err := e.store.CreateToken(ctx, create.name, models.Role(create.role))
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "created %s token %q; it is shown once, store it now:\n", t.Role, t.Name)
		// Alone on the last line, so scripts can take it with `tail -n1`.
		fmt.Fprintln(m.Stdout, tok)
		return nil
	case "list":
		toks, err := e.store.ListTokens(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tROLE\tCREATED\tLAST USED\tREVOKED")
		for _, t := range toks {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), fmtTime(t.LastUsedAt), fmtTime(t.RevokedAt))
		}
		return w.Flush()
	default: // revoke
		if err := e.store.RevokeToken(ctx, args[1]); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "revoked token %q\n", args[1])
		return nil
	}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
