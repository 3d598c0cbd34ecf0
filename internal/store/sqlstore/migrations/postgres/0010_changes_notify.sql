-- Every statement that adds change-feed rows announces them on the
-- grantflow_changes channel, so that other processes LISTENing there read
-- the feed at once instead of at their next poll. PostgreSQL delivers a
-- notification only when its transaction commits, so a listener never
-- hears of a change it cannot read yet. The payload is empty: a listener
-- reads the feed from its own position (which also fills sequence gaps),
-- and identical notifications of one transaction are folded into one.
CREATE FUNCTION grantflow_changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('grantflow_changes', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER changes_notify AFTER INSERT ON changes
    FOR EACH STATEMENT EXECUTE FUNCTION grantflow_changes_notify();
