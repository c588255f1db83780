-- The reports read every event's JSON document, and every action row. Now
-- they read covering indexes alone.
--
-- Events: what the reports read of an event (an order's total, currency
-- and coupon, a refund's amount and currency, the test flag, the order's
-- placement time) are columns the store writes with the event. treue
-- migrate fills them for the events already stored, from their documents,
-- once the statements below have run.
ALTER TABLE events ADD COLUMN amount TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN currency TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN coupon TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN test_order INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN placed_at DATETIME NULL;
DROP INDEX ix_events_shop_type_occurred;
CREATE INDEX ix_events_report ON events (shop_id, type, occurred_at, customer_id, order_ref, amount, currency, coupon, test_order);
DROP INDEX ix_events_customer;
CREATE INDEX ix_events_customer ON events (customer_id, occurred_at, id, type, order_ref, amount, test_order, placed_at);
-- Actions: whether an action is held back for the holdout group, and the
-- params of promo codes and points awards when they are short, are
-- generated from the row, so no writer can let them drift.
ALTER TABLE actions ADD COLUMN holdout INTEGER GENERATED ALWAYS AS (COALESCE(status = 'suppressed' AND reason = 'holdout', 0)) VIRTUAL;
ALTER TABLE actions ADD COLUMN report_params TEXT GENERATED ALWAYS AS (CASE WHEN type IN ('promo_code', 'points_award') AND length(params) <= 96 THEN params ELSE '' END) VIRTUAL;
DROP INDEX ix_actions_shop_due;
CREATE INDEX ix_actions_report ON actions (shop_id, due_at, customer_id, rule_id, type, status, holdout, marketing, sent_at, sku, external_ref, report_params);
