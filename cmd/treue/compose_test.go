package main

import (
	"bytes"
	"context"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/treue/treue/config"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/rules"
)

// composeFile is the part of docker-compose.yml the tests read.
type composeFile struct {
	Services map[string]struct {
		Build       string            `yaml:"build"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

// composeVar is compose's ${NAME}, ${NAME:-default} and ${NAME:?error}.
var composeVar = regexp.MustCompile(`\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}`)

// interpolate resolves compose variables from vars, as `docker compose`
// does from the shell or .env; a missing :? variable fails the test.
func interpolate(t *testing.T, s string, vars map[string]string) string {
	t.Helper()
	return composeVar.ReplaceAllStringFunc(s, func(m string) string {
		p := composeVar.FindStringSubmatch(m)
		if v := vars[p[1]]; v != "" {
			return v
		}
		if p[2] == "?" {
			t.Fatalf("%s must be set: %s", p[1], p[3])
		}
		return p[3]
	})
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// TestCompose_File checks docker-compose.yml without docker: the treue
// service's environment names only real settings and offers
// http.public_url for Shopware; the rules file comes from a host directory
// mounted read-only (so that editing it there reloads it), and that
// directory holds valid rules; the health check asks the port the service
// publishes.
func TestCompose_File(t *testing.T) {
	c := readCompose(t)
	svc, ok := c.Services["treue"]
	if !ok || svc.Build != "." {
		t.Fatalf("no service treue built from the Dockerfile: %+v", c.Services)
	}
	known := map[string]bool{}
	for _, k := range config.Keys() {
		known[config.EnvName(k)] = true
	}
	for k := range svc.Environment {
		if !known[k] {
			t.Errorf("environment %s is no setting of Treue", k)
		}
	}
	for _, k := range []string{"TREUE_HTTP_PUBLIC_URL", "TREUE_SHOPWARE_APP_NAME", "TREUE_SHOPWARE_APP_SECRET", "TREUE_RULES_FILE"} {
		if _, ok := svc.Environment[k]; !ok {
			t.Errorf("environment has no %s", k)
		}
	}
	if _, ok := svc.Environment["TREUE_HTTP_ADDR"]; ok || len(svc.Ports) != 1 || !strings.HasSuffix(svc.Ports[0], ":8080") {
		t.Errorf("ports %q with TREUE_HTTP_ADDR %q: the published port must be the one Treue listens on (:8080)", svc.Ports, svc.Environment["TREUE_HTTP_ADDR"])
	}
	if got := strings.Join(svc.Healthcheck.Test, " "); got != "CMD /usr/local/bin/treue healthcheck" {
		t.Errorf("health check %q", got)
	}

	rulesFile := svc.Environment["TREUE_RULES_FILE"]
	var hostDir string
	for _, v := range svc.Volumes {
		parts := strings.Split(interpolate(t, v, nil), ":")
		if len(parts) == 3 && parts[1] == path.Dir(rulesFile) && parts[2] == "ro" {
			hostDir = parts[0]
		}
	}
	if hostDir == "" {
		t.Fatalf("no read-only volume mounts a host directory at %s (the directory of TREUE_RULES_FILE): %q", path.Dir(rulesFile), svc.Volumes)
	}
	set, err := rules.Load(filepath.Join("../..", hostDir, path.Base(rulesFile)))
	if err != nil || len(set.Rules) == 0 {
		t.Fatalf("the mounted rules file: %v", err)
	}
}

// TestCompose_CommandsInTheContainer runs what docs/operations.md tells to run with
// `docker compose exec treue treue …`: with the environment docker compose
// gives the container (a test database instead of the mysql service), a
// token and a shop are created, the config that the health check loads is
// valid, and so is the Shopware setup from the shell's variables.
func TestCompose_CommandsInTheContainer(t *testing.T) {
	svc := readCompose(t).Services["treue"]
	shell := map[string]string{"TREUE_SECURITY_SECRET_KEY": storetest.SecretKey}
	env := map[string]string{}
	for k, v := range svc.Environment {
		env[k] = interpolate(t, v, shell)
	}
	if _, err := config.Load("", func(k string) string { return env[k] }); err != nil {
		t.Fatalf("the container's settings: %v", err)
	}
	shopware := map[string]string{"TREUE_HTTP_PUBLIC_URL": "https://treue.example.com", "TREUE_SHOPWARE_APP_NAME": "TreueLoyalty",
		"TREUE_SHOPWARE_APP_SECRET": "manifest-secret", "TREUE_SECURITY_SECRET_KEY": storetest.SecretKey}
	swEnv := map[string]string{}
	for k, v := range svc.Environment {
		swEnv[k] = interpolate(t, v, shopware)
	}
	if c, err := config.Load("", func(k string) string { return swEnv[k] }); err != nil || c.HTTP.PublicURL != "https://treue.example.com" || c.Shopware.AppName != "TreueLoyalty" {
		t.Fatalf("the container's settings for Shopware: %+v %v", c.HTTP, err)
	}

	env["TREUE_DATABASE_DSN"] = storetest.DSN(t, "mysql")
	env["ACME_WEBHOOK_SECRET"] = acmeSecret // docker compose exec -e ACME_WEBHOOK_SECRET=…
	m := func(out *bytes.Buffer) *Main {
		return &Main{Stdout: out, Stderr: out, Getenv: func(k string) string { return env[k] }}
	}
	t.Chdir(t.TempDir())
	for _, args := range [][]string{
		{"tokens", "create", "--name", "me", "--role", "admin"},
		{"shops", "add", "--key", "acme", "--platform", "standard", "--secret-env", "ACME_WEBHOOK_SECRET"},
		{"shops", "list"},
	} {
		var out bytes.Buffer
		if err := m(&out).Run(context.Background(), args); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, out.String())
		}
		if args[1] == "list" && !strings.Contains(out.String(), "acme") {
			t.Fatalf("shops list: %s", out.String())
		}
	}
	if files, _ := os.ReadDir("."); len(files) > 0 {
		t.Fatalf("with MySQL nothing is written to the working directory, got %s", files[0].Name())
	}
}
