-- The reports read every event's JSON document, and every action row, by
-- random reads: the rules report took 12-16 s for 90 days of a shop with
-- 1,000,000 events unless the tables fitted in the buffer pool, the
-- loyalty figures over 30 s. Now they read covering indexes alone.
--
-- Events: what the reports read of an event (an order's total, currency
-- and coupon, a refund's amount and currency, the test flag, the order's
-- placement time) are columns the store writes with the event. treue
-- migrate fills them for the events already stored, from their documents,
-- once the statements below have run.
ALTER TABLE events
  ADD COLUMN amount VARCHAR(32) NOT NULL DEFAULT '',
  ADD COLUMN currency VARCHAR(8) NOT NULL DEFAULT '',
  ADD COLUMN coupon VARCHAR(191) NOT NULL DEFAULT '',
  ADD COLUMN test_order BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN placed_at DATETIME(6) NULL,
  DROP INDEX ix_events_shop_type_occurred,
  ADD INDEX ix_events_report (shop_id, type, occurred_at, customer_id, order_ref, amount, currency, coupon, test_order),
  DROP INDEX ix_events_customer,
  ADD INDEX ix_events_customer (customer_id, occurred_at, id, type, order_ref, amount, test_order, placed_at);
-- Actions: whether an action is held back for the holdout group (reason is
-- TEXT, which no index can cover), and the params of promo codes and
-- points awards when they are short (all Treue writes are: 60 characters
-- at most), are generated from the row, so no writer can let them drift.
-- The longest key stays under InnoDB's 3,072 bytes. Adding stored columns
-- rebuilds the table: on a large one, plan the upgrade for a quiet hour.
ALTER TABLE actions
  ADD COLUMN holdout BOOLEAN GENERATED ALWAYS AS (COALESCE(status = 'suppressed' AND reason = 'holdout', FALSE)) STORED,
  ADD COLUMN report_params VARCHAR(96) GENERATED ALWAYS AS (CASE WHEN type IN ('promo_code', 'points_award') AND CHAR_LENGTH(params) <= 96 THEN params ELSE '' END) STORED,
  DROP INDEX ix_actions_shop_due,
  ADD INDEX ix_actions_report (shop_id, due_at, customer_id, rule_id, type, status, holdout, marketing, sent_at, sku, external_ref, report_params);
