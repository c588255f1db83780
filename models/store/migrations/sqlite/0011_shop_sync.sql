-- Reading a shop's orders from its API: the history import's resumable
-- cursor and the reconciliation's schedule, one row per shop and kind, with
-- a lease so that one replica runs each at a time.
CREATE TABLE shop_sync (
  shop_id      INTEGER  NOT NULL,
  kind         TEXT     NOT NULL,
  from_at      DATETIME NULL,
  page_cursor  TEXT     NOT NULL DEFAULT '',
  orders       INTEGER  NOT NULL DEFAULT 0,
  events       INTEGER  NOT NULL DEFAULT 0,
  total        INTEGER  NOT NULL DEFAULT -1,
  done         BOOLEAN  NOT NULL DEFAULT FALSE,
  lease_owner  TEXT     NULL,
  lease_until  DATETIME NULL,
  started_at   DATETIME NOT NULL,
  updated_at   DATETIME NOT NULL,
  finished_at  DATETIME NULL,
  PRIMARY KEY (shop_id, kind)
);
