-- The incentive budget: what each action commits the merchant to, priced
-- when it was planned, and one row per shop that planning locks (FOR
-- UPDATE) before it reads the month's spend, so that processors on several
-- replicas never plan past the budget together. The spend itself is always
-- summed from the actions: cancelling, suppressing or giving up an action
-- gives its cost back without a counter to keep in step.
ALTER TABLE actions ADD COLUMN cost_cents BIGINT NOT NULL DEFAULT 0;
CREATE INDEX ix_actions_shop_due_cost ON actions (shop_id, due_at, cost_cents, status);
CREATE TABLE budget_locks (
  shop_id    BIGINT      NOT NULL,
  locked_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (shop_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
