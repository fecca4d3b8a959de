-- The feed is read in (tx_id, seq) order, by tenant and across tenants. PostgreSQL had
-- these indexes from the start; on SQLite, without them, every feed read (and every
-- webhook poll) scanned and sorted the tenant's whole event history.
CREATE INDEX events_customer_feed_idx ON events (customer_id, tx_id, seq);
CREATE INDEX events_feed_idx ON events (tx_id, seq);
