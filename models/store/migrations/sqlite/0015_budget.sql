-- The incentive budget: what each action commits the merchant to, priced
-- when it was planned, and one row per shop that planning locks before it
-- reads the month's spend (on SQLite writers are serialised anyway). The
-- spend itself is always summed from the actions.
ALTER TABLE actions ADD COLUMN cost_cents INTEGER NOT NULL DEFAULT 0;
CREATE INDEX ix_actions_shop_due_cost ON actions (shop_id, due_at, cost_cents, status);
CREATE TABLE budget_locks (
  shop_id    INTEGER  NOT NULL PRIMARY KEY,
  locked_at  DATETIME NOT NULL
);
