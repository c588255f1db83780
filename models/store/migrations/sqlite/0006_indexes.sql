-- The retention purge selects events by source time; the timeline pages
-- through a customer's actions by planning time.
CREATE INDEX ix_events_occurred ON events (occurred_at, id);
CREATE INDEX ix_actions_customer_created ON actions (customer_id, created_at, id);
