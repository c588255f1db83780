package plugin

import (
	"sync"
	"time"

	"github.com/treue/treue/models"
)

// Zones loads each shop time zone once: time.LoadLocation reads a file.
type Zones struct{ m sync.Map }

// Of returns the shop's time zone, UTC when unset or unknown; a nil Zones
// loads it each time.
func (z *Zones) Of(shop *models.Shop) *time.Location {
	if z == nil {
		return shop.Location()
	}
	if loc, ok := z.m.Load(shop.Timezone); ok {
		return loc.(*time.Location)
	}
	loc := shop.Location()
	z.m.Store(shop.Timezone, loc)
	return loc
}
