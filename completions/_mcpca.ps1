
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mcpca' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mcpca'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mcpca' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the authority: config.yaml, key-encryption key, database, an active and a next key')
            [CompletionResult]::new('key', 'key', [CompletionResultType]::ParameterValue, 'Manage signing keys (next → active → retiring → retired; revoked)')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Register and moderate MCP servers in the registry')
            [CompletionResult]::new('client', 'client', [CompletionResultType]::ParameterValue, 'Manage clients: the principals that ask for descriptors, and their policy')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Manage admin API tokens (roles admin and reader)')
            [CompletionResult]::new('issue', 'issue', [CompletionResultType]::ParameterValue, 'Issue a Connect Descriptor for a server (prints the JWT)')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Ask a remote authority for a descriptor with client credentials (what an MCP client does)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Probe a live MCP server with valid and broken descriptors: does it verify as DESIGN §3 says?')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show a descriptor''s header, claims, times and signature status (never fails on expiry)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify a descriptor exactly as an MCP server does: exit 0 valid, 1 invalid, 2 cannot check')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a server (all versions or NAME@VERSION), a descriptor (--jti), a client (--client) or a key (--key)')
            [CompletionResult]::new('revocations', 'revocations', [CompletionResultType]::ParameterValue, 'Print the signed revocation feed (JWS) servers follow; `-o json|yaml|table` shows its entries')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Read and check the tamper-evident audit log')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Make the authority match a declarative file (servers, statuses, limits, clients): plan, then apply')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the authority''s servers and clients as a file for `mcpca apply` (never secrets)')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the authority as an HTTP service (connect, JWKS, OAuth, registry API, admin API)')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Copy this machine''s SQLite authority into a PostgreSQL database (for several replicas)')
            [CompletionResult]::new('context', 'context', [CompletionResultType]::ParameterValue, 'Name remote authorities and choose the one commands talk to (remote mode)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;init' {
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'The authority''s public URL, the `iss` of every descriptor [default: http://127.0.0.1:8421]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;key' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List keys: kid, state, created, activated, retire-at')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Create a `next` key: published in the JWKS, not yet signing')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Promote `next` to `active`; the old active key retires once its descriptors have expired')
            [CompletionResult]::new('retire', 'retire', [CompletionResultType]::ParameterValue, 'Unpublish a key whose descriptors can no longer be valid (destroys its private half)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a key at once: unpublished, listed in the revocation feed, private half destroyed')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export the public keys (JWKS) or one private key (PKCS#8 PEM)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;key;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;key;generate' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;key;rotate' {
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'How long the old active key stays published [default: max_ttl + leeway]; shorter is refused')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;key;retire' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;key;revoke' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (kept with the revocation)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;key;export' {
            [CompletionResult]::new('--private', '--private', [CompletionResultType]::ParameterName, 'The private key KID as PKCS#8 PEM (asks for confirmation; --yes without a terminal)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write to FILE (mode 0600 for a private key; never overwrites) instead of stdout')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('--public', '--public', [CompletionResultType]::ParameterName, 'The published keys as a JWKS document')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;key;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List keys: kid, state, created, activated, retire-at')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Create a `next` key: published in the JWKS, not yet signing')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Promote `next` to `active`; the old active key retires once its descriptors have expired')
            [CompletionResult]::new('retire', 'retire', [CompletionResultType]::ParameterValue, 'Unpublish a key whose descriptors can no longer be valid (destroys its private half)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a key at once: unpublished, listed in the revocation feed, private half destroyed')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export the public keys (JWKS) or one private key (PKCS#8 PEM)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;key;help;list' {
            break
        }
        'mcpca;key;help;generate' {
            break
        }
        'mcpca;key;help;rotate' {
            break
        }
        'mcpca;key;help;retire' {
            break
        }
        'mcpca;key;help;revoke' {
            break
        }
        'mcpca;key;help;export' {
            break
        }
        'mcpca;key;help;help' {
            break
        }
        'mcpca;server' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a server version from flags or from an official server.json (--file)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List server versions')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one server version (latest unless NAME@VERSION) and its versions')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change authority fields (verified, max TTL); published versions are immutable')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Mark a server or version deleted (hidden from lists; no descriptors)')
            [CompletionResult]::new('suspend', 'suspend', [CompletionResultType]::ParameterValue, 'Suspend: no descriptors (`policy_blocked`) until resumed')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Make a server active again (from suspended, deprecated, removed or revoked)')
            [CompletionResult]::new('deprecate', 'deprecate', [CompletionResultType]::ParameterValue, 'Deprecate: still issued for, flagged as deprecated')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import many server.json documents: a JSON array, an official list response, or a registry URL')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;server;add' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'The MCP endpoint (streamable HTTP); https, or http on a loopback host')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Version [default: 1.0.0]')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'Description, 1–100 characters')
            [CompletionResult]::new('--title', '--title', [CompletionResultType]::ParameterName, 'Display title')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'An official server.json document instead of NAME and flags (`-` for stdin)')
            [CompletionResult]::new('--max-ttl', '--max-ttl', [CompletionResultType]::ParameterName, 'Longest descriptor lifetime for this server')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('--verified', '--verified', [CompletionResultType]::ParameterName, 'Mark ownership as verified by the operator')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;server;list' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only servers with this status')
            [CompletionResult]::new('--search', '--search', [CompletionResultType]::ParameterName, 'Case-insensitive substring of the name')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('--include-deleted', '--include-deleted', [CompletionResultType]::ParameterName, 'Include deleted servers')
            [CompletionResult]::new('--latest', '--latest', [CompletionResultType]::ParameterName, 'Only the latest version of each server')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;server;show' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;server;update' {
            [CompletionResult]::new('--max-ttl', '--max-ttl', [CompletionResultType]::ParameterName, 'Longest descriptor lifetime for this server')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('--verified', '--verified', [CompletionResultType]::ParameterName, 'Mark ownership verified')
            [CompletionResult]::new('--unverified', '--unverified', [CompletionResultType]::ParameterName, 'Clear the verified mark')
            [CompletionResult]::new('--no-max-ttl', '--no-max-ttl', [CompletionResultType]::ParameterName, 'Remove the server''s own TTL limit')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;server;remove' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (shown with the status)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;server;suspend' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (shown with the status)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;server;resume' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (shown with the status)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;server;deprecate' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (shown with the status)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;server;import' {
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Page size when reading from a registry URL (1–100)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Validate and report, change nothing')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Print only the summary, not every entry')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;server;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a server version from flags or from an official server.json (--file)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List server versions')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one server version (latest unless NAME@VERSION) and its versions')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change authority fields (verified, max TTL); published versions are immutable')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Mark a server or version deleted (hidden from lists; no descriptors)')
            [CompletionResult]::new('suspend', 'suspend', [CompletionResultType]::ParameterValue, 'Suspend: no descriptors (`policy_blocked`) until resumed')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Make a server active again (from suspended, deprecated, removed or revoked)')
            [CompletionResult]::new('deprecate', 'deprecate', [CompletionResultType]::ParameterValue, 'Deprecate: still issued for, flagged as deprecated')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import many server.json documents: a JSON array, an official list response, or a registry URL')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;server;help;add' {
            break
        }
        'mcpca;server;help;list' {
            break
        }
        'mcpca;server;help;show' {
            break
        }
        'mcpca;server;help;update' {
            break
        }
        'mcpca;server;help;remove' {
            break
        }
        'mcpca;server;help;suspend' {
            break
        }
        'mcpca;server;help;resume' {
            break
        }
        'mcpca;server;help;deprecate' {
            break
        }
        'mcpca;server;help;import' {
            break
        }
        'mcpca;server;help;help' {
            break
        }
        'mcpca;client' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a client; prints its secret once (only a hash is kept)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List clients')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one client')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a client''s policy (the given fields replace the old ones)')
            [CompletionResult]::new('suspend', 'suspend', [CompletionResultType]::ParameterValue, 'Suspend a client: its requests are refused (`policy_blocked`)')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Resume a suspended client')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Delete a client; descriptors it holds are revoked')
            [CompletionResult]::new('rotate-secret', 'rotate-secret', [CompletionResultType]::ParameterValue, 'Give a client a new secret (printed once); the old one stops working at once')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;client;add' {
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant the client belongs to (put in `client.tenant`)')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Servers it may connect to (repeat): `*`, `prefix/*` or an exact name')
            [CompletionResult]::new('--max-ttl', '--max-ttl', [CompletionResultType]::ParameterName, 'Longest descriptor lifetime for this client')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Issuance rate limit, e.g. `60/min`')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;client;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;client;show' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;client;update' {
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant the client belongs to (put in `client.tenant`)')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Servers it may connect to (repeat): `*`, `prefix/*` or an exact name')
            [CompletionResult]::new('--max-ttl', '--max-ttl', [CompletionResultType]::ParameterName, 'Longest descriptor lifetime for this client')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Issuance rate limit, e.g. `60/min`')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('--no-tenant', '--no-tenant', [CompletionResultType]::ParameterName, 'Remove the tenant')
            [CompletionResult]::new('--no-max-ttl', '--no-max-ttl', [CompletionResultType]::ParameterName, 'Remove the client''s TTL limit')
            [CompletionResult]::new('--no-rate', '--no-rate', [CompletionResultType]::ParameterName, 'Remove the rate limit')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;client;suspend' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (kept with the status)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;client;resume' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;client;remove' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;client;rotate-secret' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;client;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a client; prints its secret once (only a hash is kept)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List clients')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one client')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a client''s policy (the given fields replace the old ones)')
            [CompletionResult]::new('suspend', 'suspend', [CompletionResultType]::ParameterValue, 'Suspend a client: its requests are refused (`policy_blocked`)')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Resume a suspended client')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Delete a client; descriptors it holds are revoked')
            [CompletionResult]::new('rotate-secret', 'rotate-secret', [CompletionResultType]::ParameterValue, 'Give a client a new secret (printed once); the old one stops working at once')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;client;help;add' {
            break
        }
        'mcpca;client;help;list' {
            break
        }
        'mcpca;client;help;show' {
            break
        }
        'mcpca;client;help;update' {
            break
        }
        'mcpca;client;help;suspend' {
            break
        }
        'mcpca;client;help;resume' {
            break
        }
        'mcpca;client;help;remove' {
            break
        }
        'mcpca;client;help;rotate-secret' {
            break
        }
        'mcpca;client;help;help' {
            break
        }
        'mcpca;token' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an admin API token; prints it once (only a hash is kept)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List admin tokens (never the tokens themselves)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an admin token by its id')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;token;create' {
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, '`admin` may do everything; `reader` may only read')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'A name to recognise it by')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'Lifetime, e.g. 30d [default: does not expire]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;token;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;token;revoke' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;token;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an admin API token; prints it once (only a hash is kept)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List admin tokens (never the tokens themselves)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an admin token by its id')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;token;help;create' {
            break
        }
        'mcpca;token;help;list' {
            break
        }
        'mcpca;token;help;revoke' {
            break
        }
        'mcpca;token;help;help' {
            break
        }
        'mcpca;issue' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The server: NAME (latest version) or NAME@VERSION')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Lifetime (30s, 5m, 1h); clamped to the server''s max TTL and 24h [default: 2m]')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Client the descriptor is issued to [default: operator]')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant of the client')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Space-separated scopes')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('--mcp-config', '--mcp-config', [CompletionResultType]::ParameterName, 'Print a ready `.mcp.json`-style entry (url + MCP-Connect header)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;connect' {
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Lifetime (30s, 5m, 1h); the authority lowers it to its limits [default: the authority''s, 2m]')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Your client id, checked by the authority against the secret''s client')
            [CompletionResult]::new('--client-secret-file', '--client-secret-file', [CompletionResultType]::ParameterName, 'File holding the client secret (`mcpca_cs_…`) [default: env MCPCA_CLIENT_SECRET]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Print the descriptor alone (`jwt`; `-o json|yaml` prints its envelope) or a `.mcp.json` entry')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('--bearer', '--bearer', [CompletionResultType]::ParameterName, 'In the `.mcp.json` entry, send the descriptor as `Authorization: Bearer` instead of `MCP-Connect`')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;check' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The server as registered: NAME (latest version) or NAME@VERSION')
            [CompletionResult]::new('--revocation-wait', '--revocation-wait', [CompletionResultType]::ParameterName, 'How long to keep re-sending the revoked case while the server''s feed catches up')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Lifetime of the probe descriptors [default: 2m]')
            [CompletionResult]::new('--skip', '--skip', [CompletionResultType]::ParameterName, 'Leave a case out (repeatable), e.g. wrong_server_id for a server that checks no server id')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('--bearer', '--bearer', [CompletionResultType]::ParameterName, 'Send descriptors as `Authorization: Bearer` instead of `MCP-Connect`')
            [CompletionResult]::new('--expect-revocation', '--expect-revocation', [CompletionResultType]::ParameterName, 'The server follows the revocation feed: also send a descriptor whose jti is revoked (without it, that case is skipped)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;inspect' {
            [CompletionResult]::new('--jwks', '--jwks', [CompletionResultType]::ParameterName, 'Check the signature against this JWKS (file or http(s) URL) instead of the local keys')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;verify' {
            [CompletionResult]::new('--audience', '--audience', [CompletionResultType]::ParameterName, 'The verifying server''s own URL (compared in canonical form with `aud`)')
            [CompletionResult]::new('--server-id', '--server-id', [CompletionResultType]::ParameterName, 'Also require `mcp.server.id` to be this name')
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'Expected issuer [default: the local authority''s]')
            [CompletionResult]::new('--jwks', '--jwks', [CompletionResultType]::ParameterName, 'Public keys as a JWKS file (or http(s) URL) [default: the local authority''s]')
            [CompletionResult]::new('--leeway', '--leeway', [CompletionResultType]::ParameterName, 'Clock leeway [default: 15s]')
            [CompletionResult]::new('--revocations', '--revocations', [CompletionResultType]::ParameterName, 'Also apply a signed revocation feed (the output of `mcpca revocations`)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;revoke' {
            [CompletionResult]::new('--jti', '--jti', [CompletionResultType]::ParameterName, 'One descriptor, by its jti. The feed carries it until that descriptor expires (its `exp` plus the leeway, from the issuance''s audit event), or for the longest validity when this authority has no record of issuing it')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'A signing key, by its kid (as `mcpca key revoke`)')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'A client: suspended, and every descriptor it holds revoked')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (kept with the revocation)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;revocations' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only entries after this sequence number')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;audit' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Events since a duration ago (`1h`) or a time (RFC 3339)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Events about this server (NAME or NAME@VERSION)')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Events by or about this client')
            [CompletionResult]::new('--decision', '--decision', [CompletionResultType]::ParameterName, 'Only issuance decisions that allowed or denied')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'The newest N events')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the hash chain; exit 1 and name the first broken event if it was tampered with')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write every event as JSON lines')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;audit;verify' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;audit;export' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;audit;help' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the hash chain; exit 1 and name the first broken event if it was tampered with')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write every event as JSON lines')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;audit;help;verify' {
            break
        }
        'mcpca;audit;help;export' {
            break
        }
        'mcpca;audit;help;help' {
            break
        }
        'mcpca;apply' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The state file, YAML or JSON (`-` for stdin)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The state file, YAML or JSON (`-` for stdin)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print and check the plan; change nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;export' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write to FILE (never overwrites) instead of stdout; YAML unless `-o json`')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (port 0 picks a free port)')
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'The authority''s public URL (`iss`), overriding config.yaml and MCPCA_ISSUER')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'TLS certificate chain (PEM); serves HTTPS with --tls-key')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'TLS private key (PEM)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format on stderr')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;migrate' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The target: a postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL (TLS parameters as for --database-url)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace whatever the target database holds (refused otherwise)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;context' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Name a remote authority: --url and --token-file (the file holding its admin token, mode 0600)')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make a context current (or go back to the local authority with --local)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List contexts; the current one is marked')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Forget a context (its token file is left alone)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;context;add' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Base URL of the authority (what `mcpca serve` prints)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;context;use' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'No current context: commands manage the local authority again')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;context;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;context;remove' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;context;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Name a remote authority: --url and --token-file (the file holding its admin token, mode 0600)')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make a context current (or go back to the local authority with --local)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List contexts; the current one is marked')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Forget a context (its token file is left alone)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;context;help;add' {
            break
        }
        'mcpca;context;help;use' {
            break
        }
        'mcpca;context;help;list' {
            break
        }
        'mcpca;context;help;remove' {
            break
        }
        'mcpca;context;help;help' {
            break
        }
        'mcpca;completions' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Manage the authority at this URL over its admin API (remote mode) instead of the local one')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the admin token for remote mode (and the token file of `context add`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the authority: config.yaml, key-encryption key, database, an active and a next key')
            [CompletionResult]::new('key', 'key', [CompletionResultType]::ParameterValue, 'Manage signing keys (next → active → retiring → retired; revoked)')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Register and moderate MCP servers in the registry')
            [CompletionResult]::new('client', 'client', [CompletionResultType]::ParameterValue, 'Manage clients: the principals that ask for descriptors, and their policy')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Manage admin API tokens (roles admin and reader)')
            [CompletionResult]::new('issue', 'issue', [CompletionResultType]::ParameterValue, 'Issue a Connect Descriptor for a server (prints the JWT)')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Ask a remote authority for a descriptor with client credentials (what an MCP client does)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Probe a live MCP server with valid and broken descriptors: does it verify as DESIGN §3 says?')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show a descriptor''s header, claims, times and signature status (never fails on expiry)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify a descriptor exactly as an MCP server does: exit 0 valid, 1 invalid, 2 cannot check')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a server (all versions or NAME@VERSION), a descriptor (--jti), a client (--client) or a key (--key)')
            [CompletionResult]::new('revocations', 'revocations', [CompletionResultType]::ParameterValue, 'Print the signed revocation feed (JWS) servers follow; `-o json|yaml|table` shows its entries')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Read and check the tamper-evident audit log')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Make the authority match a declarative file (servers, statuses, limits, clients): plan, then apply')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the authority''s servers and clients as a file for `mcpca apply` (never secrets)')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the authority as an HTTP service (connect, JWKS, OAuth, registry API, admin API)')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Copy this machine''s SQLite authority into a PostgreSQL database (for several replicas)')
            [CompletionResult]::new('context', 'context', [CompletionResultType]::ParameterValue, 'Name remote authorities and choose the one commands talk to (remote mode)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;help;init' {
            break
        }
        'mcpca;help;key' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List keys: kid, state, created, activated, retire-at')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Create a `next` key: published in the JWKS, not yet signing')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Promote `next` to `active`; the old active key retires once its descriptors have expired')
            [CompletionResult]::new('retire', 'retire', [CompletionResultType]::ParameterValue, 'Unpublish a key whose descriptors can no longer be valid (destroys its private half)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a key at once: unpublished, listed in the revocation feed, private half destroyed')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export the public keys (JWKS) or one private key (PKCS#8 PEM)')
            break
        }
        'mcpca;help;key;list' {
            break
        }
        'mcpca;help;key;generate' {
            break
        }
        'mcpca;help;key;rotate' {
            break
        }
        'mcpca;help;key;retire' {
            break
        }
        'mcpca;help;key;revoke' {
            break
        }
        'mcpca;help;key;export' {
            break
        }
        'mcpca;help;server' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a server version from flags or from an official server.json (--file)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List server versions')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one server version (latest unless NAME@VERSION) and its versions')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change authority fields (verified, max TTL); published versions are immutable')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Mark a server or version deleted (hidden from lists; no descriptors)')
            [CompletionResult]::new('suspend', 'suspend', [CompletionResultType]::ParameterValue, 'Suspend: no descriptors (`policy_blocked`) until resumed')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Make a server active again (from suspended, deprecated, removed or revoked)')
            [CompletionResult]::new('deprecate', 'deprecate', [CompletionResultType]::ParameterValue, 'Deprecate: still issued for, flagged as deprecated')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import many server.json documents: a JSON array, an official list response, or a registry URL')
            break
        }
        'mcpca;help;server;add' {
            break
        }
        'mcpca;help;server;list' {
            break
        }
        'mcpca;help;server;show' {
            break
        }
        'mcpca;help;server;update' {
            break
        }
        'mcpca;help;server;remove' {
            break
        }
        'mcpca;help;server;suspend' {
            break
        }
        'mcpca;help;server;resume' {
            break
        }
        'mcpca;help;server;deprecate' {
            break
        }
        'mcpca;help;server;import' {
            break
        }
        'mcpca;help;client' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a client; prints its secret once (only a hash is kept)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List clients')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one client')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a client''s policy (the given fields replace the old ones)')
            [CompletionResult]::new('suspend', 'suspend', [CompletionResultType]::ParameterValue, 'Suspend a client: its requests are refused (`policy_blocked`)')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Resume a suspended client')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Delete a client; descriptors it holds are revoked')
            [CompletionResult]::new('rotate-secret', 'rotate-secret', [CompletionResultType]::ParameterValue, 'Give a client a new secret (printed once); the old one stops working at once')
            break
        }
        'mcpca;help;client;add' {
            break
        }
        'mcpca;help;client;list' {
            break
        }
        'mcpca;help;client;show' {
            break
        }
        'mcpca;help;client;update' {
            break
        }
        'mcpca;help;client;suspend' {
            break
        }
        'mcpca;help;client;resume' {
            break
        }
        'mcpca;help;client;remove' {
            break
        }
        'mcpca;help;client;rotate-secret' {
            break
        }
        'mcpca;help;token' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an admin API token; prints it once (only a hash is kept)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List admin tokens (never the tokens themselves)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an admin token by its id')
            break
        }
        'mcpca;help;token;create' {
            break
        }
        'mcpca;help;token;list' {
            break
        }
        'mcpca;help;token;revoke' {
            break
        }
        'mcpca;help;issue' {
            break
        }
        'mcpca;help;connect' {
            break
        }
        'mcpca;help;check' {
            break
        }
        'mcpca;help;inspect' {
            break
        }
        'mcpca;help;verify' {
            break
        }
        'mcpca;help;revoke' {
            break
        }
        'mcpca;help;revocations' {
            break
        }
        'mcpca;help;audit' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the hash chain; exit 1 and name the first broken event if it was tampered with')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write every event as JSON lines')
            break
        }
        'mcpca;help;audit;verify' {
            break
        }
        'mcpca;help;audit;export' {
            break
        }
        'mcpca;help;apply' {
            break
        }
        'mcpca;help;export' {
            break
        }
        'mcpca;help;serve' {
            break
        }
        'mcpca;help;migrate' {
            break
        }
        'mcpca;help;context' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Name a remote authority: --url and --token-file (the file holding its admin token, mode 0600)')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make a context current (or go back to the local authority with --local)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List contexts; the current one is marked')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Forget a context (its token file is left alone)')
            break
        }
        'mcpca;help;context;add' {
            break
        }
        'mcpca;help;context;use' {
            break
        }
        'mcpca;help;context;list' {
            break
        }
        'mcpca;help;context;remove' {
            break
        }
        'mcpca;help;completions' {
            break
        }
        'mcpca;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
