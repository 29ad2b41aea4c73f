-- mcpca schema 3: indexes of the registry read API (`GET /v0.1/servers`).
-- `version=latest` pages walk only the latest versions, still in (name, version) order.
CREATE INDEX server_versions_latest ON server_versions (name, version) WHERE is_latest = 1;
-- `updated_since` finds the changed versions and names without a scan.
CREATE INDEX server_versions_updated ON server_versions (updated_at);
CREATE INDEX servers_updated ON servers (updated_at);
