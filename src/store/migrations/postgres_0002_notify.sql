-- mcpca PostgreSQL schema 2: every committed change of what issuance reads (servers and their
-- versions, clients, keys) is announced on the channel `mcpca_changes` with the payload
-- `<schema>.<table>`, so every replica's in-memory snapshot is refreshed at once (DESIGN §9).
-- Statement-level triggers: one notification per statement whatever the rows, sent only when
-- the transaction commits (PostgreSQL folds identical payloads of one transaction into one);
-- they fire for any writer, an operator's own SQL and `mcpca migrate`'s copy included.
-- Revocations are not announced: the feed and introspection read them from the database.
CREATE FUNCTION mcpca_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('mcpca_changes', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
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
