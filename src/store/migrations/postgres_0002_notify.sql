-- mcpca PostgreSQL schema 2: every committed change of what issuance reads (servers and their
-- versions, clients, keys) is announced on the channel `mcpca_changes`, so every replica's
-- in-memory snapshot is refreshed at once (DESIGN §9). The payload is `<schema>.<table> <head>`:
-- for a change made by mcpca (its write transactions set `mcpca.audited` when they lock the
-- audit chain's head), `<head>` is the head before the change — the change's audit events
-- come after it, so a replica that has read past it has the change already, and one that has
-- not reads the servers those events name. For any other change (an operator's own SQL)
-- `<head>` is `*`: there is no event to say what changed, and replicas read everything.
-- Statement-level triggers: one notification per statement whatever the rows, sent only when
-- the transaction commits (PostgreSQL folds identical payloads of one transaction into one).
-- Revocations are not announced: the feed and introspection read them from the database.
CREATE FUNCTION mcpca_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('mcpca_changes', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME || ' ' ||
        CASE WHEN current_setting('mcpca.audited', true) = 'on'
             THEN (SELECT seq FROM heads WHERE name = 'audit')::text
             ELSE '*' END);
    RETURN NULL;
END
$$;

CREATE TRIGGER servers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON servers
    FOR EACH STATEMENT EXECUTE FUNCTION mcpca_notify_change();
CREATE TRIGGER server_versions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON server_versions
    FOR EACH STATEMENT EXECUTE FUNCTION mcpca_notify_change();
CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION mcpca_notify_change();
CREATE TRIGGER keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON keys
    FOR EACH STATEMENT EXECUTE FUNCTION mcpca_notify_change();
