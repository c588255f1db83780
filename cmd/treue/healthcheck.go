package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/treue/treue/config"
)

// healthcheck probes a running treue's /readyz; the container image has no
// curl, so the compose file's health check calls the binary itself. Without
// a URL it asks the address the config says serve listens on, so that a
// changed http.addr does not make a healthy container look dead.
func (m *Main) healthcheck(ctx context.Context, configPath string, args []string) error {
	if len(args) > 1 {
		return usageError{mustUsage("healthcheck")}
	}
	var url string
	if len(args) == 1 {
		url = args[0]
	} else {
		cfg, err := config.Load(configPath, m.Getenv)
		if err != nil {
			return fmt.Errorf("healthcheck: %w", err)
		}
		url = config.ClientURL(cfg.HTTP.Addr) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return usageError{fmt.Sprintf("healthcheck: %v", err)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d", url, resp.StatusCode)
	}
	fmt.Fprintln(m.Stdout, "ok")
	return nil
}
