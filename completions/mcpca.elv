
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand client 'Manage clients: the principals that ask for descriptors, and their policy'
            cand token 'Manage admin API tokens (roles admin and reader)'
            cand issue 'Issue a Connect Descriptor for a server (prints the JWT)'
            cand connect 'Ask a remote authority for a descriptor with client credentials (what an MCP client does)'
            cand check 'Probe a live MCP server with valid and broken descriptors: does it verify as DESIGN §3 says?'
            cand inspect 'Show a descriptor''s header, claims, times and signature status (never fails on expiry)'
            cand verify 'Verify a descriptor exactly as an MCP server does: exit 0 valid, 1 invalid, 2 cannot check'
            cand revoke 'Revoke a server (all versions or NAME@VERSION), a descriptor (--jti), a client (--client) or a key (--key)'
            cand revocations 'Print the signed revocation feed (JWS) servers follow; `-o json|yaml|table` shows its entries'
            cand audit 'Read and check the tamper-evident audit log'
            cand apply 'Make the authority match a declarative file (servers, statuses, limits, clients): plan, then apply'
            cand export 'Write the authority''s servers and clients as a file for `mcpca apply` (never secrets)'
            cand serve 'Run the authority as an HTTP service (connect, JWKS, OAuth, registry API, admin API)'
            cand migrate 'Copy this machine''s SQLite authority into a PostgreSQL database (for several replicas)'
            cand context 'Name remote authorities and choose the one commands talk to (remote mode)'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;init'= {
            cand --issuer 'The authority''s public URL, the `iss` of every descriptor [default: http://127.0.0.1:8421]'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand resume 'Make a server active again (from suspended, deprecated, removed or revoked)'
            cand deprecate 'Deprecate: still issued for, flagged as deprecated'
            cand import 'Import many server.json documents: a JSON array, an official list response, or a registry URL'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;server;import'= {
            cand --page-size 'Page size when reading from a registry URL (1–100)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand --dry-run 'Validate and report, change nothing'
            cand --summary 'Print only the summary, not every entry'
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
            cand resume 'Make a server active again (from suspended, deprecated, removed or revoked)'
            cand deprecate 'Deprecate: still issued for, flagged as deprecated'
            cand import 'Import many server.json documents: a JSON array, an official list response, or a registry URL'
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
        &'mcpca;server;help;import'= {
        }
        &'mcpca;server;help;help'= {
        }
        &'mcpca;client'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand add 'Register a client; prints its secret once (only a hash is kept)'
            cand list 'List clients'
            cand show 'Show one client'
            cand update 'Change a client''s policy (the given fields replace the old ones)'
            cand suspend 'Suspend a client: its requests are refused (`policy_blocked`)'
            cand resume 'Resume a suspended client'
            cand remove 'Delete a client; descriptors it holds are revoked'
            cand rotate-secret 'Give a client a new secret (printed once); the old one stops working at once'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;client;add'= {
            cand --tenant 'Tenant the client belongs to (put in `client.tenant`)'
            cand --allow 'Servers it may connect to (repeat): `*`, `prefix/*` or an exact name'
            cand --max-ttl 'Longest descriptor lifetime for this client'
            cand --rate 'Issuance rate limit, e.g. `60/min`'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;client;list'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;client;show'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;client;update'= {
            cand --tenant 'Tenant the client belongs to (put in `client.tenant`)'
            cand --allow 'Servers it may connect to (repeat): `*`, `prefix/*` or an exact name'
            cand --max-ttl 'Longest descriptor lifetime for this client'
            cand --rate 'Issuance rate limit, e.g. `60/min`'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand --no-tenant 'Remove the tenant'
            cand --no-max-ttl 'Remove the client''s TTL limit'
            cand --no-rate 'Remove the rate limit'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;client;suspend'= {
            cand --reason 'Why (kept with the status)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;client;resume'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;client;remove'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;client;rotate-secret'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;client;help'= {
            cand add 'Register a client; prints its secret once (only a hash is kept)'
            cand list 'List clients'
            cand show 'Show one client'
            cand update 'Change a client''s policy (the given fields replace the old ones)'
            cand suspend 'Suspend a client: its requests are refused (`policy_blocked`)'
            cand resume 'Resume a suspended client'
            cand remove 'Delete a client; descriptors it holds are revoked'
            cand rotate-secret 'Give a client a new secret (printed once); the old one stops working at once'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;client;help;add'= {
        }
        &'mcpca;client;help;list'= {
        }
        &'mcpca;client;help;show'= {
        }
        &'mcpca;client;help;update'= {
        }
        &'mcpca;client;help;suspend'= {
        }
        &'mcpca;client;help;resume'= {
        }
        &'mcpca;client;help;remove'= {
        }
        &'mcpca;client;help;rotate-secret'= {
        }
        &'mcpca;client;help;help'= {
        }
        &'mcpca;token'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand create 'Create an admin API token; prints it once (only a hash is kept)'
            cand list 'List admin tokens (never the tokens themselves)'
            cand revoke 'Revoke an admin token by its id'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;token;create'= {
            cand --role '`admin` may do everything; `reader` may only read'
            cand --name 'A name to recognise it by'
            cand --expires 'Lifetime, e.g. 30d [default: does not expire]'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;token;list'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;token;revoke'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;token;help'= {
            cand create 'Create an admin API token; prints it once (only a hash is kept)'
            cand list 'List admin tokens (never the tokens themselves)'
            cand revoke 'Revoke an admin token by its id'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;token;help;create'= {
        }
        &'mcpca;token;help;list'= {
        }
        &'mcpca;token;help;revoke'= {
        }
        &'mcpca;token;help;help'= {
        }
        &'mcpca;issue'= {
            cand --server 'The server: NAME (latest version) or NAME@VERSION'
            cand --ttl 'Lifetime (30s, 5m, 1h); clamped to the server''s max TTL and 24h [default: 2m]'
            cand --client 'Client the descriptor is issued to [default: operator]'
            cand --tenant 'Tenant of the client'
            cand --scope 'Space-separated scopes'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand --mcp-config 'Print a ready `.mcp.json`-style entry (url + MCP-Connect header)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;connect'= {
            cand --ttl 'Lifetime (30s, 5m, 1h); the authority lowers it to its limits [default: the authority''s, 2m]'
            cand --client-id 'Your client id, checked by the authority against the secret''s client'
            cand --client-secret-file 'File holding the client secret (`mcpca_cs_…`) [default: env MCPCA_CLIENT_SECRET]'
            cand --format 'Print the descriptor alone (`jwt`; `-o json|yaml` prints its envelope) or a `.mcp.json` entry'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand --bearer 'In the `.mcp.json` entry, send the descriptor as `Authorization: Bearer` instead of `MCP-Connect`'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;check'= {
            cand --server 'The server as registered: NAME (latest version) or NAME@VERSION'
            cand --revocation-wait 'How long to keep re-sending the revoked case while the server''s feed catches up'
            cand --ttl 'Lifetime of the probe descriptors [default: 2m]'
            cand --skip 'Leave a case out (repeatable), e.g. wrong_server_id for a server that checks no server id'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand --bearer 'Send descriptors as `Authorization: Bearer` instead of `MCP-Connect`'
            cand --expect-revocation 'The server follows the revocation feed: also send a descriptor whose jti is revoked (without it, that case is skipped)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --revocations 'Also apply a signed revocation feed (the output of `mcpca revocations`)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;revoke'= {
            cand --jti 'One descriptor, by its jti. The feed carries it until that descriptor expires (its `exp` plus the leeway, from the issuance''s audit event), or for the longest validity when this authority has no record of issuing it'
            cand --key 'A signing key, by its kid (as `mcpca key revoke`)'
            cand --client 'A client: suspended, and every descriptor it holds revoked'
            cand --reason 'Why (kept with the revocation)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;audit'= {
            cand --since 'Events since a duration ago (`1h`) or a time (RFC 3339)'
            cand --server 'Events about this server (NAME or NAME@VERSION)'
            cand --client 'Events by or about this client'
            cand --decision 'Only issuance decisions that allowed or denied'
            cand --limit 'The newest N events'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand verify 'Check the hash chain; exit 1 and name the first broken event if it was tampered with'
            cand export 'Write every event as JSON lines'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;audit;verify'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;audit;export'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;audit;help'= {
            cand verify 'Check the hash chain; exit 1 and name the first broken event if it was tampered with'
            cand export 'Write every event as JSON lines'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;audit;help;verify'= {
        }
        &'mcpca;audit;help;export'= {
        }
        &'mcpca;audit;help;help'= {
        }
        &'mcpca;apply'= {
            cand -f 'The state file, YAML or JSON (`-` for stdin)'
            cand --file 'The state file, YAML or JSON (`-` for stdin)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand --dry-run 'Print and check the plan; change nothing'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;export'= {
            cand --out 'Write to FILE (never overwrites) instead of stdout; YAML unless `-o json`'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;serve'= {
            cand --listen 'Address to listen on (port 0 picks a free port)'
            cand --issuer 'The authority''s public URL (`iss`), overriding config.yaml and MCPCA_ISSUER'
            cand --tls-cert 'TLS certificate chain (PEM); serves HTTPS with --tls-key'
            cand --tls-key 'TLS private key (PEM)'
            cand --log-format 'Log format on stderr'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;migrate'= {
            cand --to 'The target: a postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL (TLS parameters as for --database-url)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand --force 'Replace whatever the target database holds (refused otherwise)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;context'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand add 'Name a remote authority: --url and --token-file (the file holding its admin token, mode 0600)'
            cand use 'Make a context current (or go back to the local authority with --local)'
            cand list 'List contexts; the current one is marked'
            cand remove 'Forget a context (its token file is left alone)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;context;add'= {
            cand --url 'Base URL of the authority (what `mcpca serve` prints)'
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;context;use'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand --local 'No current context: commands manage the local authority again'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;context;list'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;context;remove'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
            cand -y 'Answer yes to confirmations (required without a terminal)'
            cand --yes 'Answer yes to confirmations (required without a terminal)'
            cand --no-input 'Never prompt; fail where a prompt would be needed'
            cand -q 'Print only data and errors'
            cand --quiet 'Print only data and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpca;context;help'= {
            cand add 'Name a remote authority: --url and --token-file (the file holding its admin token, mode 0600)'
            cand use 'Make a context current (or go back to the local authority with --local)'
            cand list 'List contexts; the current one is marked'
            cand remove 'Forget a context (its token file is left alone)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpca;context;help;add'= {
        }
        &'mcpca;context;help;use'= {
        }
        &'mcpca;context;help;list'= {
        }
        &'mcpca;context;help;remove'= {
        }
        &'mcpca;context;help;help'= {
        }
        &'mcpca;completions'= {
            cand --home 'Keep everything (config, KEK, database) under one folder'
            cand --config 'Path of config.yaml (default: in --home, or the platform''s config dir)'
            cand --database-url 'Keep the authority in this PostgreSQL database instead of the home''s SQLite file'
            cand -o 'Output format of commands that print data'
            cand --output 'Output format of commands that print data'
            cand --registry 'Manage the authority at this URL over its admin API (remote mode) instead of the local one'
            cand --token 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)'
            cand --token-file 'File holding the admin token for remote mode (and the token file of `context add`)'
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
            cand client 'Manage clients: the principals that ask for descriptors, and their policy'
            cand token 'Manage admin API tokens (roles admin and reader)'
            cand issue 'Issue a Connect Descriptor for a server (prints the JWT)'
            cand connect 'Ask a remote authority for a descriptor with client credentials (what an MCP client does)'
            cand check 'Probe a live MCP server with valid and broken descriptors: does it verify as DESIGN §3 says?'
            cand inspect 'Show a descriptor''s header, claims, times and signature status (never fails on expiry)'
            cand verify 'Verify a descriptor exactly as an MCP server does: exit 0 valid, 1 invalid, 2 cannot check'
            cand revoke 'Revoke a server (all versions or NAME@VERSION), a descriptor (--jti), a client (--client) or a key (--key)'
            cand revocations 'Print the signed revocation feed (JWS) servers follow; `-o json|yaml|table` shows its entries'
            cand audit 'Read and check the tamper-evident audit log'
            cand apply 'Make the authority match a declarative file (servers, statuses, limits, clients): plan, then apply'
            cand export 'Write the authority''s servers and clients as a file for `mcpca apply` (never secrets)'
            cand serve 'Run the authority as an HTTP service (connect, JWKS, OAuth, registry API, admin API)'
            cand migrate 'Copy this machine''s SQLite authority into a PostgreSQL database (for several replicas)'
            cand context 'Name remote authorities and choose the one commands talk to (remote mode)'
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
            cand resume 'Make a server active again (from suspended, deprecated, removed or revoked)'
            cand deprecate 'Deprecate: still issued for, flagged as deprecated'
            cand import 'Import many server.json documents: a JSON array, an official list response, or a registry URL'
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
        &'mcpca;help;server;import'= {
        }
        &'mcpca;help;client'= {
            cand add 'Register a client; prints its secret once (only a hash is kept)'
            cand list 'List clients'
            cand show 'Show one client'
            cand update 'Change a client''s policy (the given fields replace the old ones)'
            cand suspend 'Suspend a client: its requests are refused (`policy_blocked`)'
            cand resume 'Resume a suspended client'
            cand remove 'Delete a client; descriptors it holds are revoked'
            cand rotate-secret 'Give a client a new secret (printed once); the old one stops working at once'
        }
        &'mcpca;help;client;add'= {
        }
        &'mcpca;help;client;list'= {
        }
        &'mcpca;help;client;show'= {
        }
        &'mcpca;help;client;update'= {
        }
        &'mcpca;help;client;suspend'= {
        }
        &'mcpca;help;client;resume'= {
        }
        &'mcpca;help;client;remove'= {
        }
        &'mcpca;help;client;rotate-secret'= {
        }
        &'mcpca;help;token'= {
            cand create 'Create an admin API token; prints it once (only a hash is kept)'
            cand list 'List admin tokens (never the tokens themselves)'
            cand revoke 'Revoke an admin token by its id'
        }
        &'mcpca;help;token;create'= {
        }
        &'mcpca;help;token;list'= {
        }
        &'mcpca;help;token;revoke'= {
        }
        &'mcpca;help;issue'= {
        }
        &'mcpca;help;connect'= {
        }
        &'mcpca;help;check'= {
        }
        &'mcpca;help;inspect'= {
        }
        &'mcpca;help;verify'= {
        }
        &'mcpca;help;revoke'= {
        }
        &'mcpca;help;revocations'= {
        }
        &'mcpca;help;audit'= {
            cand verify 'Check the hash chain; exit 1 and name the first broken event if it was tampered with'
            cand export 'Write every event as JSON lines'
        }
        &'mcpca;help;audit;verify'= {
        }
        &'mcpca;help;audit;export'= {
        }
        &'mcpca;help;apply'= {
        }
        &'mcpca;help;export'= {
        }
        &'mcpca;help;serve'= {
        }
        &'mcpca;help;migrate'= {
        }
        &'mcpca;help;context'= {
            cand add 'Name a remote authority: --url and --token-file (the file holding its admin token, mode 0600)'
            cand use 'Make a context current (or go back to the local authority with --local)'
            cand list 'List contexts; the current one is marked'
            cand remove 'Forget a context (its token file is left alone)'
        }
        &'mcpca;help;context;add'= {
        }
        &'mcpca;help;context;use'= {
        }
        &'mcpca;help;context;list'= {
        }
        &'mcpca;help;context;remove'= {
        }
        &'mcpca;help;completions'= {
        }
        &'mcpca;help;help'= {
        }
    ]
    $completions[$command]
}
