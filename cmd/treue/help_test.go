package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

// TestHelp_EveryCommand asks every command and subcommand for help, in
// every spelling and also after other arguments, each in an empty working
// directory without a config: each answers its usage on stdout, exits 0 and
// leaves the directory empty (no treue.db, no treue.key, no file read as an
// argument).
func TestHelp_EveryCommand(t *testing.T) {
	type call struct {
		args []string
		want string // in the usage printed
	}
	top := "usage: treue [--config FILE] COMMAND [ARGS]"
	calls := []call{
		{[]string{"--help"}, top}, {[]string{"-h"}, top}, {[]string{"-help"}, top}, {[]string{"help"}, top},
		{[]string{"--config", "treue.yaml", "--help"}, top},
		{[]string{"help", "tokens", "create"}, "usage: treue [--config FILE] tokens create --name NAME"},
		{[]string{"help", "shops"}, "usage: treue [--config FILE] shops COMMAND"},
	}
	groups := map[string]bool{}
	for _, c := range commands() {
		want := "usage: treue [--config FILE] " + strings.TrimSpace(c.path+" "+c.args)
		path := strings.Fields(c.path)
		for _, h := range []string{"--help", "-h", "-help"} {
			calls = append(calls, call{append(path[:len(path):len(path)], h), want})
		}
		// After arguments the command would otherwise take: a file to read,
		// a key, half a flag.
		calls = append(calls,
			call{append(path[:len(path):len(path)], "x.yaml", "--help"), want},
			call{append(path[:len(path):len(path)], "--shop", "acme", "-h"), want},
			call{append(path[:len(path):len(path)], "--help", "--config", "treue.yaml"), want},
		)
		if c.flags != nil {
			// The help lists the flags the command parses.
			c.flags().VisitAll(func(f *flag.Flag) {
				calls = append(calls, call{append(path[:len(path):len(path)], "--help"), "  -" + f.Name})
			})
		}
		if len(path) == 2 && !groups[path[0]] {
			groups[path[0]] = true
			for _, h := range []string{"--help", "-h", "help"} {
				calls = append(calls, call{[]string{path[0], h}, "usage: treue [--config FILE] " + path[0] + " COMMAND [ARGS]"})
			}
		}
	}
	for _, c := range calls {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Chdir(t.TempDir())
			var out, errOut bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
			err := m.Run(context.Background(), c.args)
			if code := exitCode(err, &errOut); code != 0 {
				t.Fatalf("exit %d (%v), want 0; stderr:\n%s", code, err, errOut.String())
			}
			if !strings.Contains(out.String(), c.want) {
				t.Fatalf("stdout does not contain %q:\n%s", c.want, out.String())
			}
			if errOut.Len() > 0 {
				t.Errorf("stderr: %s", errOut.String())
			}
			if files, _ := os.ReadDir("."); len(files) > 0 {
				t.Fatalf("help created %s", files[0].Name())
			}
		})
	}
}

// TestHelp_ListsEveryCommand: the top-level usage names every command, and
// the README's command table documents each one.
func TestHelp_ListsEveryCommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	u := usage()
	for _, c := range commands() {
		if !strings.Contains(u, "  "+c.path) {
			t.Errorf("usage does not list %q", c.path)
		}
		if !bytes.Contains(readme, []byte("`treue "+c.path)) {
			t.Errorf("README does not document `treue %s`", c.path)
		}
	}
}

// TestRun_UnknownCommandHelp: help for a command that does not exist is a
// usage error (exit 2), not a success.
func TestRun_UnknownCommandHelp(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{{"frobnicate", "--help"}, {"help", "frobnicate"}, {"tokens", "frobnicate"}} {
		var out bytes.Buffer
		err := (&Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}).Run(context.Background(), args)
		var ue usageError
		if !errors.As(err, &ue) || exitCode(err, &out) != 2 {
			t.Errorf("%q: got %v, want a usage error", args, err)
		}
	}
	if files, _ := os.ReadDir("."); len(files) > 0 {
		t.Fatalf("created %s", files[0].Name())
	}
}
