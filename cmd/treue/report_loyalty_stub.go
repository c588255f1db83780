package main

import "context"

// reportLoyalty is replaced by the loyalty report.
func (m *Main) reportLoyalty(context.Context, string, []string) error {
	return usageError{"report loyalty: not built yet"}
}
