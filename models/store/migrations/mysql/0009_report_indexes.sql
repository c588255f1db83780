-- The rules report reads a shop's actions by due time and its order,
-- refund and review events by time: without these it scanned the shop's
-- whole history (6 s for 90 days of a shop with 1,000,000 events).
CREATE INDEX ix_actions_shop_due ON actions (shop_id, due_at);
CREATE INDEX ix_events_shop_type_occurred ON events (shop_id, type, occurred_at);
