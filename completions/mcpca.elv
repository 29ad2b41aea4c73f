
use builtin;
use str;

set edit:completion:arg-completer[mcpca] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mcpca'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mcpca'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create the authority: config.yaml, key-encryption key, database, an active and a next key'
            cand key 'Manage signing keys (next → active → retiring → retired; revoked)'
            cand server 'Register and moderate MCP servers in the registry'
            cand issue 'Issue a Connect Descriptor for a server (prints the JWT)'
            cand inspect 'Show a descriptor''s header, claims, times and signature status (never fails on expiry)'
            cand verify 'Verify a descriptor exactly as an MCP server does: exit 0 valid, 1 invalid, 2 cannot check'
            cand revoke 'Revoke a server (all versions or NAME@VERSION), a descriptor (--jti) or a key (--key)'
            cand revocations 'Print the revocations recorded for the feed'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;init'= {
            cand --issuer 'The authority''s public URL, the `iss` of every descriptor [default: http://127.0.0.1:8421]'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;key'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand list 'List keys: kid, state, created, activated, retire-at'
            cand generate 'Create a `next` key: published in the JWKS, not yet signing'
            cand rotate 'Promote `next` to `active`; the old active key retires once its descriptors have expired'
            cand retire 'Unpublish a key whose descriptors can no longer be valid (destroys its private half)'
            cand revoke 'Revoke a key at once: unpublished, listed in the revocation feed, private half destroyed'
            cand export 'Export the public keys (JWKS) or one private key (PKCS#8 PEM)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;key;list'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;key;generate'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;key;rotate'= {
            cand --grace 'How long the old active key stays published [default: max_ttl + leeway]; shorter is refused'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;key;retire'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;key;revoke'= {
            cand --reason 'Why (kept with the revocation)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;key;export'= {
            cand --private 'The private key KID as PKCS#8 PEM (asks for confirmation; --yes without a terminal)'
            cand --out 'Write to FILE (mode 0600 for a private key; never overwrites) instead of stdout'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --public 'The published keys as a JWKS document'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;key;help'= {
            cand list 'List keys: kid, state, created, activated, retire-at'
            cand generate 'Create a `next` key: published in the JWKS, not yet signing'
            cand rotate 'Promote `next` to `active`; the old active key retires once its descriptors have expired'
            cand retire 'Unpublish a key whose descriptors can no longer be valid (destroys its private half)'
            cand revoke 'Revoke a key at once: unpublished, listed in the revocation feed, private half destroyed'
            cand export 'Export the public keys (JWKS) or one private key (PKCS#8 PEM)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;key;help;list'= {
        }
        &'mcpca;key;help;generate'= {
        }
        &'mcpca;key;help;rotate'= {
        }
        &'mcpca;key;help;retire'= {
        }
        &'mcpca;key;help;revoke'= {
        }
        &'mcpca;key;help;export'= {
        }
        &'mcpca;key;help;help'= {
        }
        &'mcpca;server'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand add 'Register a server version from flags or from an official server.json (--file)'
            cand list 'List server versions'
            cand show 'Show one server version (latest unless NAME@VERSION) and its versions'
            cand update 'Change authority fields (verified, max TTL); published versions are immutable'
            cand remove 'Mark a server or version deleted (hidden from lists; no descriptors)'
            cand suspend 'Suspend: no descriptors (`policy_blocked`) until resumed'
            cand resume 'Make a suspended or deprecated server active again'
            cand deprecate 'Deprecate: still issued for, flagged as deprecated'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;server;add'= {
            cand --url 'The MCP endpoint (streamable HTTP); https, or http on a loopback host'
            cand --version 'Version [default: 1.0.0]'
            cand --description 'Description, 1–100 characters'
            cand --title 'Display title'
            cand --file 'An official server.json document instead of NAME and flags (`-` for stdin)'
            cand --max-ttl 'Longest descriptor lifetime for this server'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --verified 'Mark ownership as verified by the operator'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;server;list'= {
            cand --status 'Only servers with this status'
            cand --search 'Case-insensitive substring of the name'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --include-deleted 'Include deleted servers'
            cand --latest 'Only the latest version of each server'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;server;show'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;server;update'= {
            cand --max-ttl 'Longest descriptor lifetime for this server'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --verified 'Mark ownership verified'
            cand --unverified 'Clear the verified mark'
            cand --no-max-ttl 'Remove the server''s own TTL limit'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;server;remove'= {
            cand --reason 'Why (shown with the status)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;server;suspend'= {
            cand --reason 'Why (shown with the status)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;server;resume'= {
            cand --reason 'Why (shown with the status)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;server;deprecate'= {
            cand --reason 'Why (shown with the status)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;server;help'= {
            cand add 'Register a server version from flags or from an official server.json (--file)'
            cand list 'List server versions'
            cand show 'Show one server version (latest unless NAME@VERSION) and its versions'
            cand update 'Change authority fields (verified, max TTL); published versions are immutable'
            cand remove 'Mark a server or version deleted (hidden from lists; no descriptors)'
            cand suspend 'Suspend: no descriptors (`policy_blocked`) until resumed'
            cand resume 'Make a suspended or deprecated server active again'
            cand deprecate 'Deprecate: still issued for, flagged as deprecated'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;server;help;add'= {
        }
        &'mcpca;server;help;list'= {
        }
        &'mcpca;server;help;show'= {
        }
        &'mcpca;server;help;update'= {
        }
        &'mcpca;server;help;remove'= {
        }
        &'mcpca;server;help;suspend'= {
        }
        &'mcpca;server;help;resume'= {
        }
        &'mcpca;server;help;deprecate'= {
        }
        &'mcpca;server;help;help'= {
        }
        &'mcpca;issue'= {
            cand --server 'The server: NAME (latest version) or NAME@VERSION'
            cand --ttl 'Lifetime (30s, 5m, 1h); clamped to the server''s max TTL and 24h [default: 2m]'
            cand --client 'Client the descriptor is issued to [default: operator]'
            cand --tenant 'Tenant of the client'
            cand --scope 'Space-separated scopes'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --mcp-config 'Print a ready `.mcp.json`-style entry (url + MCP-Connect header)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;inspect'= {
            cand --jwks 'Check the signature against this JWKS (file or http(s) URL) instead of the local keys'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;verify'= {
            cand --audience 'The verifying server''s own URL (compared in canonical form with `aud`)'
            cand --server-id 'Also require `mcp.server.id` to be this name'
            cand --issuer 'Expected issuer [default: the local authority''s]'
            cand --jwks 'Public keys as a JWKS file (or http(s) URL) [default: the local authority''s]'
            cand --leeway 'Clock leeway [default: 15s]'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;revoke'= {
            cand --jti 'One descriptor, by its jti'
            cand --key 'A signing key, by its kid (as `mcpca key revoke`)'
            cand --reason 'Why (kept with the revocation)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;revocations'= {
            cand --since 'Only entries after this sequence number'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;completions'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;help'= {
            cand init 'Create the authority: config.yaml, key-encryption key, database, an active and a next key'
            cand key 'Manage signing keys (next → active → retiring → retired; revoked)'
            cand server 'Register and moderate MCP servers in the registry'
            cand issue 'Issue a Connect Descriptor for a server (prints the JWT)'
            cand inspect 'Show a descriptor''s header, claims, times and signature status (never fails on expiry)'
            cand verify 'Verify a descriptor exactly as an MCP server does: exit 0 valid, 1 invalid, 2 cannot check'
            cand revoke 'Revoke a server (all versions or NAME@VERSION), a descriptor (--jti) or a key (--key)'
            cand revocations 'Print the revocations recorded for the feed'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;help;init'= {
        }
        &'mcpca;help;key'= {
            cand list 'List keys: kid, state, created, activated, retire-at'
            cand generate 'Create a `next` key: published in the JWKS, not yet signing'
            cand rotate 'Promote `next` to `active`; the old active key retires once its descriptors have expired'
            cand retire 'Unpublish a key whose descriptors can no longer be valid (destroys its private half)'
            cand revoke 'Revoke a key at once: unpublished, listed in the revocation feed, private half destroyed'
            cand export 'Export the public keys (JWKS) or one private key (PKCS#8 PEM)'
        }
        &'mcpca;help;key;list'= {
        }
        &'mcpca;help;key;generate'= {
        }
        &'mcpca;help;key;rotate'= {
        }
        &'mcpca;help;key;retire'= {
        }
        &'mcpca;help;key;revoke'= {
        }
        &'mcpca;help;key;export'= {
        }
        &'mcpca;help;server'= {
            cand add 'Register a server version from flags or from an official server.json (--file)'
            cand list 'List server versions'
            cand show 'Show one server version (latest unless NAME@VERSION) and its versions'
            cand update 'Change authority fields (verified, max TTL); published versions are immutable'
            cand remove 'Mark a server or version deleted (hidden from lists; no descriptors)'
            cand suspend 'Suspend: no descriptors (`policy_blocked`) until resumed'
            cand resume 'Make a suspended or deprecated server active again'
            cand deprecate 'Deprecate: still issued for, flagged as deprecated'
        }
        &'mcpca;help;server;add'= {
        }
        &'mcpca;help;server;list'= {
        }
        &'mcpca;help;server;show'= {
        }
        &'mcpca;help;server;update'= {
        }
        &'mcpca;help;server;remove'= {
        }
        &'mcpca;help;server;suspend'= {
        }
        &'mcpca;help;server;resume'= {
        }
        &'mcpca;help;server;deprecate'= {
        }
        &'mcpca;help;issue'= {
        }
        &'mcpca;help;inspect'= {
        }
        &'mcpca;help;verify'= {
        }
        &'mcpca;help;revoke'= {
        }
        &'mcpca;help;revocations'= {
        }
        &'mcpca;help;completions'= {
        }
        &'mcpca;help;help'= {
        }
    ]
    $completions[$command]
}
