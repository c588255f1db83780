-- Reading a shop's orders from its API: the history import's resumable
-- cursor and the reconciliation's schedule, one row per shop and kind, with
-- a lease so that one replica runs each at a time.
CREATE TABLE shop_sync (
  shop_id      BIGINT       NOT NULL,
  kind         VARCHAR(16)  NOT NULL,
  from_at      DATETIME(6)  NULL,
  page_cursor  TEXT         NOT NULL,
  orders       BIGINT       NOT NULL DEFAULT 0,
  events       BIGINT       NOT NULL DEFAULT 0,
  total        BIGINT       NOT NULL DEFAULT -1,
  done         BOOLEAN      NOT NULL DEFAULT FALSE,
  lease_owner  VARCHAR(64)  NULL,
  lease_until  DATETIME(6)  NULL,
  started_at   DATETIME(6)  NOT NULL,
  updated_at   DATETIME(6)  NOT NULL,
  finished_at  DATETIME(6)  NULL,
  PRIMARY KEY (shop_id, kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
