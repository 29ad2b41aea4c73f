-- mcpca schema 4: a partial index of the audit events that are not issuances.
-- `mcpca serve` polls for changes made by other processes every 100 ms by asking whether any
-- event but an issuance was appended since its last look (store::sqlite::hot::changed_since);
-- under load thousands of issuance events arrive between two looks, and without this index
-- each look read them all. Issuance rows do not enter the index, so appending them costs the
-- same as before.
CREATE INDEX audit_changes ON audit (seq) WHERE action <> 'issue';
