package config

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "write docs/configuration.md")

const configDoc = "../docs/configuration.md"

// TestConfigDoc_EveryKeyDescribed: every key of Config and every default
// has a description in keyDocs, and keyDocs describes no key that is gone.
func TestConfigDoc_EveryKeyDescribed(t *testing.T) {
	missing, unknown := undocumented()
	for _, k := range missing {
		t.Errorf("config key %s has no description in keyDocs (config/keydoc.go)", k)
	}
	for _, k := range unknown {
		t.Errorf("keyDocs describes %s, which is not a config key", k)
	}
}

// TestConfigDoc: docs/configuration.md is what Doc generates from the keys,
// their defaults and descriptions. After changing a key, run
// go generate ./config (or this test with -update).
func TestConfigDoc(t *testing.T) {
	want := Doc()
	if *update {
		if err := os.WriteFile(configDoc, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := range max(len(gl), len(wl)) {
			var g, w []byte
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if !bytes.Equal(g, w) {
				t.Fatalf("%s differs from the config's keys (run go generate ./config); first at line %d:\n got: %s\nwant: %s", configDoc, i+1, g, w)
			}
		}
	}
}

// TestConfigDoc_KeysMatchDefaults: every key the document lists for a
// section has a default, so that its environment variable works
// (spf13/viper#188), except the maps and lists that only a file can set.
func TestConfigDoc_KeysMatchDefaults(t *testing.T) {
	for _, k := range DocKeys() {
		if _, ok := defaults[k]; !ok && k != "reports.attribution_days" && !isShopKey(k) {
			t.Errorf("config key %s has no default: its environment variable %s would be ignored", k, EnvName(k))
		}
	}
}

func isShopKey(k string) bool { return len(k) > len("shops[].") && k[:len("shops[].")] == "shops[]." }
