-- On MySQL a processing batch claims the due deliveries of one shop, so
-- that on a keyspace sharded by shop (deploy/vitess) its transaction stays
-- on one shard; the dispatcher's claim reads due actions the same way.
-- Without these the claim would read all of a shop's stored deliveries.
CREATE INDEX ix_inbox_shop_due ON inbox (shop_id, status, next_attempt_at, id);
CREATE INDEX ix_actions_shop_next ON actions (shop_id, status, next_attempt_at, id);
CREATE INDEX ix_customers_shop_id ON customers (shop_id, id);
