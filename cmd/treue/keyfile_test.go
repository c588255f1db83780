package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyFile_CreatedLoggedAndNeverReplaced: on SQLite without a configured
// key, the first command creates treue.key beside the database and logs its
// path with a reminder to back it up. Once shop secrets are sealed with it,
// a missing key file stops every command that needs secrets with a message
// saying what happened, instead of a new key that cannot open them.
func TestKeyFile_CreatedLoggedAndNeverReplaced(t *testing.T) {
	e := newEnv(t, "sqlite", "")
	delete(e.env, "TREUE_SECURITY_SECRET_KEY")
	keyFile := filepath.Join(filepath.Dir(e.dsn), "treue.key")
	run := func(args ...string) (stdout, stderr string, err error) {
		var out, errOut bytes.Buffer
		err = e.main(&out, &errOut).Run(context.Background(), append([]string{"--config", e.configPath}, args...))
		return out.String(), errOut.String(), err
	}

	_, logs, err := run("shops", "list")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(keyFile); err != nil {
		t.Fatalf("no key file beside the database: %v", err)
	}
	if !strings.Contains(logs, keyFile) || !strings.Contains(logs, "back it up") {
		t.Fatalf("the log does not name %s and say to back it up:\n%s", keyFile, logs)
	}
	if _, logs, err = run("shops", "list"); err != nil || strings.Contains(logs, "back it up") {
		t.Fatalf("second run: %v, logs:\n%s", err, logs)
	}
	if _, _, err := run("shops", "add", "--key", "keyed", "--platform", "standard", "--secret", acmeSecret); err != nil {
		t.Fatal(err)
	}

	os.Remove(keyFile)
	for _, args := range [][]string{{"serve"}, {"shops", "list"}, {"customers", "export", "--shop", "keyed", "--email", "a@example.org"}} {
		_, _, err := run(args...)
		if err == nil || !strings.Contains(err.Error(), "the key file "+keyFile+" is missing, but "+e.dsn+" holds the secrets of 1 shop") ||
			!strings.Contains(err.Error(), "restore the key file from your backup") {
			t.Errorf("%q without the key file: %v", args, err)
		}
		if _, err := os.Stat(keyFile); err == nil {
			t.Fatalf("%q created a new key file", args)
		}
	}
	// What needs no secret still works, and creates no key either.
	if out, _, err := run("migrate"); err != nil || !strings.Contains(out, "database schema at version") {
		t.Fatalf("migrate without the key file: %q %v", out, err)
	}
	if _, err := os.Stat(keyFile); err == nil {
		t.Fatal("migrate created a new key file")
	}
}
