package main

import (
	"context"
	"fmt"
)

func (m *Main) migrate(ctx context.Context, configPath string) error {
	e, err := m.open(ctx, configPath, false)
	if err != nil {
		return err
	}
	defer e.store.Close()
	v, err := e.store.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "database schema at version %d\n", v)
	return nil
}
