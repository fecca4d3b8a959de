DROP INDEX events_feed_idx;
DROP INDEX events_customer_feed_idx;
