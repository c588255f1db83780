package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/treue/treue/models"
)

func (m *Main) tokens(ctx context.Context, configPath string, args []string) error {
	if len(args) == 0 {
		return usageError{"usage: treue tokens create --name NAME --role support|admin | list | revoke NAME"}
	}
	e, err := m.openReady(ctx, configPath, false)
	if err != nil {
		return err
	}
	defer e.store.Close()
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("tokens create", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		name := fs.String("name", "", "who or what uses the token")
		role := fs.String("role", "support", "support or admin")
		if err := fs.Parse(args[1:]); err != nil || *name == "" {
			return usageError{"usage: treue tokens create --name NAME --role support|admin"}
		}
		if !models.Role(*role).Valid() {
			return usageError{fmt.Sprintf("--role: must be support or admin, got %q", *role)}
		}
		tok, t, err := e.store.CreateToken(ctx, *name, models.Role(*role))
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
	case "revoke":
		if len(args) != 2 {
			return usageError{"usage: treue tokens revoke NAME"}
		}
		if err := e.store.RevokeToken(ctx, args[1]); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "revoked token %q\n", args[1])
		return nil
	}
	return usageError{fmt.Sprintf("tokens: unknown command %q", args[0])}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
