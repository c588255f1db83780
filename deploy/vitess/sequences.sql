-- Vitess sequences for the ids of the sharded tables, in the unsharded
-- keyspace treue_global. Apply once, before the first `treue migrate`:
--   vtctldclient ApplySchema --sql-file sequences.sql treue_global
-- and seed each next_id above the table's highest id when moving an
-- existing database (see README.md, "Moving an existing database").

CREATE TABLE IF NOT EXISTS access_log_seq (id INT NOT NULL, next_id BIGINT NOT NULL, cache BIGINT NOT NULL, PRIMARY KEY (id)) COMMENT 'vitess_sequence';
INSERT IGNORE INTO access_log_seq (id, next_id, cache) VALUES (0, 1, 1000);
CREATE TABLE IF NOT EXISTS actions_seq (id INT NOT NULL, next_id BIGINT NOT NULL, cache BIGINT NOT NULL, PRIMARY KEY (id)) COMMENT 'vitess_sequence';
INSERT IGNORE INTO actions_seq (id, next_id, cache) VALUES (0, 1, 1000);
CREATE TABLE IF NOT EXISTS attempts_seq (id INT NOT NULL, next_id BIGINT NOT NULL, cache BIGINT NOT NULL, PRIMARY KEY (id)) COMMENT 'vitess_sequence';
INSERT IGNORE INTO attempts_seq (id, next_id, cache) VALUES (0, 1, 1000);
CREATE TABLE IF NOT EXISTS customers_seq (id INT NOT NULL, next_id BIGINT NOT NULL, cache BIGINT NOT NULL, PRIMARY KEY (id)) COMMENT 'vitess_sequence';
INSERT IGNORE INTO customers_seq (id, next_id, cache) VALUES (0, 1, 1000);
CREATE TABLE IF NOT EXISTS erasures_seq (id INT NOT NULL, next_id BIGINT NOT NULL, cache BIGINT NOT NULL, PRIMARY KEY (id)) COMMENT 'vitess_sequence';
INSERT IGNORE INTO erasures_seq (id, next_id, cache) VALUES (0, 1, 1000);
CREATE TABLE IF NOT EXISTS events_seq (id INT NOT NULL, next_id BIGINT NOT NULL, cache BIGINT NOT NULL, PRIMARY KEY (id)) COMMENT 'vitess_sequence';
INSERT IGNORE INTO events_seq (id, next_id, cache) VALUES (0, 1, 1000);
CREATE TABLE IF NOT EXISTS inbox_seq (id INT NOT NULL, next_id BIGINT NOT NULL, cache BIGINT NOT NULL, PRIMARY KEY (id)) COMMENT 'vitess_sequence';
INSERT IGNORE INTO inbox_seq (id, next_id, cache) VALUES (0, 1, 1000);
CREATE TABLE IF NOT EXISTS points_ledger_seq (id INT NOT NULL, next_id BIGINT NOT NULL, cache BIGINT NOT NULL, PRIMARY KEY (id)) COMMENT 'vitess_sequence';
INSERT IGNORE INTO points_ledger_seq (id, next_id, cache) VALUES (0, 1, 1000);
CREATE TABLE IF NOT EXISTS stock_subscriptions_seq (id INT NOT NULL, next_id BIGINT NOT NULL, cache BIGINT NOT NULL, PRIMARY KEY (id)) COMMENT 'vitess_sequence';
INSERT IGNORE INTO stock_subscriptions_seq (id, next_id, cache) VALUES (0, 1, 1000);
