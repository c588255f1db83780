package inbox

// Misses is how many "no such shop" answers the cache holds.
func (c *ShopCache) Misses() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.misses)
}
