
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('issue', 'issue', [CompletionResultType]::ParameterValue, 'Issue a Connect Descriptor for a server (prints the JWT)')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show a descriptor''s header, claims, times and signature status (never fails on expiry)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify a descriptor exactly as an MCP server does: exit 0 valid, 1 invalid, 2 cannot check')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a server (all versions or NAME@VERSION), a descriptor (--jti) or a key (--key)')
            [CompletionResult]::new('revocations', 'revocations', [CompletionResultType]::ParameterValue, 'Print the revocations recorded for the feed')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpca;init' {
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'The authority''s public URL, the `iss` of every descriptor [default: http://127.0.0.1:8421]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Make a suspended or deprecated server active again')
            [CompletionResult]::new('deprecate', 'deprecate', [CompletionResultType]::ParameterValue, 'Deprecate: still issued for, flagged as deprecated')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Make a suspended or deprecated server active again')
            [CompletionResult]::new('deprecate', 'deprecate', [CompletionResultType]::ParameterValue, 'Deprecate: still issued for, flagged as deprecated')
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
        'mcpca;server;help;help' {
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
        'mcpca;inspect' {
            [CompletionResult]::new('--jwks', '--jwks', [CompletionResultType]::ParameterName, 'Check the signature against this JWKS (file or http(s) URL) instead of the local keys')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('--jti', '--jti', [CompletionResultType]::ParameterName, 'One descriptor, by its jti')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'A signing key, by its kid (as `mcpca key revoke`)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (kept with the revocation)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail where a prompt would be needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpca;completions' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Keep everything (config, KEK, database) under one folder')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of config.yaml (default: in --home, or the platform''s config dir)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of commands that print data')
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
            [CompletionResult]::new('issue', 'issue', [CompletionResultType]::ParameterValue, 'Issue a Connect Descriptor for a server (prints the JWT)')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show a descriptor''s header, claims, times and signature status (never fails on expiry)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify a descriptor exactly as an MCP server does: exit 0 valid, 1 invalid, 2 cannot check')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a server (all versions or NAME@VERSION), a descriptor (--jti) or a key (--key)')
            [CompletionResult]::new('revocations', 'revocations', [CompletionResultType]::ParameterValue, 'Print the revocations recorded for the feed')
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
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Make a suspended or deprecated server active again')
            [CompletionResult]::new('deprecate', 'deprecate', [CompletionResultType]::ParameterValue, 'Deprecate: still issued for, flagged as deprecated')
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
        'mcpca;help;issue' {
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
