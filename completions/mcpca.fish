# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mcpca_global_optspecs
    string join \n home= config= database-url= o/output= y/yes no-input q/quiet registry= token= token-file= h/help V/version
end

function __fish_mcpca_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mcpca_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mcpca_using_subcommand
    set -l cmd (__fish_mcpca_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mcpca -n "__fish_mcpca_needs_command" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_needs_command" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_needs_command" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_needs_command" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_needs_command" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_needs_command" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_needs_command" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_needs_command" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_needs_command" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_needs_command" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_needs_command" -s V -l version -d 'Print version'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "init" -d 'Create the authority: config.yaml, key-encryption key, database, an active and a next key'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "key" -d 'Manage signing keys (next → active → retiring → retired; revoked)'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "server" -d 'Register and moderate MCP servers in the registry'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "client" -d 'Manage clients: the principals that ask for descriptors, and their policy'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "token" -d 'Manage admin API tokens (roles admin and reader)'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "issue" -d 'Issue a Connect Descriptor for a server (prints the JWT)'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "connect" -d 'Ask a remote authority for a descriptor with client credentials (what an MCP client does)'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "check" -d 'Probe a live MCP server with valid and broken descriptors: does it verify as DESIGN §3 says?'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "inspect" -d 'Show a descriptor\'s header, claims, times and signature status (never fails on expiry)'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "verify" -d 'Verify a descriptor exactly as an MCP server does: exit 0 valid, 1 invalid, 2 cannot check'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "revoke" -d 'Revoke a server (all versions or NAME@VERSION), a descriptor (--jti), a client (--client) or a key (--key)'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "revocations" -d 'Print the signed revocation feed (JWS) servers follow; `-o json|yaml|table` shows its entries'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "audit" -d 'Read and check the tamper-evident audit log'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "apply" -d 'Make the authority match a declarative file (servers, statuses, limits, clients): plan, then apply'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "export" -d 'Write the authority\'s servers and clients as a file for `mcpca apply` (never secrets)'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "serve" -d 'Run the authority as an HTTP service (connect, JWKS, OAuth, registry API, admin API)'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "migrate" -d 'Copy this machine\'s SQLite authority into a PostgreSQL database (for several replicas)'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "context" -d 'Name remote authorities and choose the one commands talk to (remote mode)'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c mcpca -n "__fish_mcpca_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand init" -l issuer -d 'The authority\'s public URL, the `iss` of every descriptor [default: http://127.0.0.1:8421]' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand init" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand init" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand init" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand init" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand init" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand init" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand init" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand init" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand init" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand init" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -f -a "list" -d 'List keys: kid, state, created, activated, retire-at'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -f -a "generate" -d 'Create a `next` key: published in the JWKS, not yet signing'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -f -a "rotate" -d 'Promote `next` to `active`; the old active key retires once its descriptors have expired'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -f -a "retire" -d 'Unpublish a key whose descriptors can no longer be valid (destroys its private half)'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -f -a "revoke" -d 'Revoke a key at once: unpublished, listed in the revocation feed, private half destroyed'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -f -a "export" -d 'Export the public keys (JWKS) or one private key (PKCS#8 PEM)'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and not __fish_seen_subcommand_from list generate rotate retire revoke export help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from list" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from list" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from list" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from list" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from list" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from list" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from generate" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from generate" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from generate" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from generate" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from generate" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from generate" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from generate" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from generate" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from generate" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from generate" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from rotate" -l grace -d 'How long the old active key stays published [default: max_ttl + leeway]; shorter is refused' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from rotate" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from rotate" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from rotate" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from rotate" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from rotate" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from rotate" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from rotate" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from rotate" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from rotate" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from rotate" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from retire" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from retire" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from retire" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from retire" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from retire" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from retire" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from retire" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from retire" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from retire" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from retire" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from retire" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from revoke" -l reason -d 'Why (kept with the revocation)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from revoke" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from revoke" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from revoke" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from revoke" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from revoke" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from revoke" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from revoke" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from revoke" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from revoke" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from revoke" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -l private -d 'The private key KID as PKCS#8 PEM (asks for confirmation; --yes without a terminal)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -l out -d 'Write to FILE (mode 0600 for a private key; never overwrites) instead of stdout' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -l public -d 'The published keys as a JWKS document'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "list" -d 'List keys: kid, state, created, activated, retire-at'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "generate" -d 'Create a `next` key: published in the JWKS, not yet signing'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "rotate" -d 'Promote `next` to `active`; the old active key retires once its descriptors have expired'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "retire" -d 'Unpublish a key whose descriptors can no longer be valid (destroys its private half)'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke a key at once: unpublished, listed in the revocation feed, private half destroyed'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export the public keys (JWKS) or one private key (PKCS#8 PEM)'
complete -c mcpca -n "__fish_mcpca_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -f -a "add" -d 'Register a server version from flags or from an official server.json (--file)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -f -a "list" -d 'List server versions'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -f -a "show" -d 'Show one server version (latest unless NAME@VERSION) and its versions'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -f -a "update" -d 'Change authority fields (verified, max TTL); published versions are immutable'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -f -a "remove" -d 'Mark a server or version deleted (hidden from lists; no descriptors)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -f -a "suspend" -d 'Suspend: no descriptors (`policy_blocked`) until resumed'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -f -a "resume" -d 'Make a server active again (from suspended, deprecated, removed or revoked)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -f -a "deprecate" -d 'Deprecate: still issued for, flagged as deprecated'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -f -a "import" -d 'Import many server.json documents: a JSON array, an official list response, or a registry URL'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and not __fish_seen_subcommand_from add list show update remove suspend resume deprecate import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l url -d 'The MCP endpoint (streamable HTTP); https, or http on a loopback host' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l version -d 'Version [default: 1.0.0]' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l description -d 'Description, 1–100 characters' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l title -d 'Display title' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l file -d 'An official server.json document instead of NAME and flags (`-` for stdin)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l max-ttl -d 'Longest descriptor lifetime for this server' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l verified -d 'Mark ownership as verified by the operator'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -l status -d 'Only servers with this status' -r -f -a "active\t''
deprecated\t''
suspended\t''
revoked\t''
deleted\t''"
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -l search -d 'Case-insensitive substring of the name' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -l include-deleted -d 'Include deleted servers'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -l latest -d 'Only the latest version of each server'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from show" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from show" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from show" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from show" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from show" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from show" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -l max-ttl -d 'Longest descriptor lifetime for this server' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -l verified -d 'Mark ownership verified'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -l unverified -d 'Clear the verified mark'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -l no-max-ttl -d 'Remove the server\'s own TTL limit'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from remove" -l reason -d 'Why (shown with the status)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from remove" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from remove" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from remove" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from remove" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from remove" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from remove" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from remove" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from suspend" -l reason -d 'Why (shown with the status)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from suspend" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from suspend" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from suspend" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from suspend" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from suspend" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from suspend" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from suspend" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from suspend" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from suspend" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from suspend" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from suspend" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from resume" -l reason -d 'Why (shown with the status)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from resume" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from resume" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from resume" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from resume" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from resume" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from resume" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from resume" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from resume" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from resume" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from resume" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from deprecate" -l reason -d 'Why (shown with the status)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from deprecate" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from deprecate" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from deprecate" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from deprecate" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from deprecate" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from deprecate" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from deprecate" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from deprecate" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from deprecate" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from deprecate" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from deprecate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -l page-size -d 'Page size when reading from a registry URL (1–100)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -l dry-run -d 'Validate and report, change nothing'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -l summary -d 'Print only the summary, not every entry'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "add" -d 'Register a server version from flags or from an official server.json (--file)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "list" -d 'List server versions'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one server version (latest unless NAME@VERSION) and its versions'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "update" -d 'Change authority fields (verified, max TTL); published versions are immutable'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Mark a server or version deleted (hidden from lists; no descriptors)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "suspend" -d 'Suspend: no descriptors (`policy_blocked`) until resumed'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Make a server active again (from suspended, deprecated, removed or revoked)'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "deprecate" -d 'Deprecate: still issued for, flagged as deprecated'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import many server.json documents: a JSON array, an official list response, or a registry URL'
complete -c mcpca -n "__fish_mcpca_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -f -a "add" -d 'Register a client; prints its secret once (only a hash is kept)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -f -a "list" -d 'List clients'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -f -a "show" -d 'Show one client'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -f -a "update" -d 'Change a client\'s policy (the given fields replace the old ones)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -f -a "suspend" -d 'Suspend a client: its requests are refused (`policy_blocked`)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -f -a "resume" -d 'Resume a suspended client'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -f -a "remove" -d 'Delete a client; descriptors it holds are revoked'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -f -a "rotate-secret" -d 'Give a client a new secret (printed once); the old one stops working at once'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and not __fish_seen_subcommand_from add list show update suspend resume remove rotate-secret help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -l tenant -d 'Tenant the client belongs to (put in `client.tenant`)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -l allow -d 'Servers it may connect to (repeat): `*`, `prefix/*` or an exact name' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -l max-ttl -d 'Longest descriptor lifetime for this client' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -l rate -d 'Issuance rate limit, e.g. `60/min`' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from list" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from list" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from list" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from list" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from list" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from list" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from show" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from show" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from show" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from show" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from show" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from show" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l tenant -d 'Tenant the client belongs to (put in `client.tenant`)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l allow -d 'Servers it may connect to (repeat): `*`, `prefix/*` or an exact name' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l max-ttl -d 'Longest descriptor lifetime for this client' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l rate -d 'Issuance rate limit, e.g. `60/min`' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l no-tenant -d 'Remove the tenant'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l no-max-ttl -d 'Remove the client\'s TTL limit'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l no-rate -d 'Remove the rate limit'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from suspend" -l reason -d 'Why (kept with the status)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from suspend" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from suspend" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from suspend" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from suspend" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from suspend" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from suspend" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from suspend" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from suspend" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from suspend" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from suspend" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from suspend" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from resume" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from resume" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from resume" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from resume" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from resume" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from resume" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from resume" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from resume" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from resume" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from resume" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from remove" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from remove" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from remove" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from remove" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from remove" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from remove" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from remove" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from rotate-secret" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from rotate-secret" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from rotate-secret" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from rotate-secret" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from rotate-secret" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from rotate-secret" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from rotate-secret" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from rotate-secret" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from rotate-secret" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from rotate-secret" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from rotate-secret" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from help" -f -a "add" -d 'Register a client; prints its secret once (only a hash is kept)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from help" -f -a "list" -d 'List clients'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one client'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from help" -f -a "update" -d 'Change a client\'s policy (the given fields replace the old ones)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from help" -f -a "suspend" -d 'Suspend a client: its requests are refused (`policy_blocked`)'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Resume a suspended client'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Delete a client; descriptors it holds are revoked'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from help" -f -a "rotate-secret" -d 'Give a client a new secret (printed once); the old one stops working at once'
complete -c mcpca -n "__fish_mcpca_using_subcommand client; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "create" -d 'Create an admin API token; prints it once (only a hash is kept)'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "list" -d 'List admin tokens (never the tokens themselves)'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "revoke" -d 'Revoke an admin token by its id'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -l role -d '`admin` may do everything; `reader` may only read' -r -f -a "admin\t'Everything'
reader\t'Read only'"
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -l name -d 'A name to recognise it by' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -l expires -d 'Lifetime, e.g. 30d [default: does not expire]' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from list" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from list" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from list" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from list" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from list" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from list" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from revoke" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from revoke" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from revoke" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from revoke" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from revoke" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from revoke" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from revoke" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from revoke" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from revoke" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from revoke" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create an admin API token; prints it once (only a hash is kept)'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "list" -d 'List admin tokens (never the tokens themselves)'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke an admin token by its id'
complete -c mcpca -n "__fish_mcpca_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l server -d 'The server: NAME (latest version) or NAME@VERSION' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l ttl -d 'Lifetime (30s, 5m, 1h); clamped to the server\'s max TTL and 24h [default: 2m]' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l client -d 'Client the descriptor is issued to [default: operator]' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l tenant -d 'Tenant of the client' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l scope -d 'Space-separated scopes' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l mcp-config -d 'Print a ready `.mcp.json`-style entry (url + MCP-Connect header)'
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand issue" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -l ttl -d 'Lifetime (30s, 5m, 1h); the authority lowers it to its limits [default: the authority\'s, 2m]' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -l client-id -d 'Your client id, checked by the authority against the secret\'s client' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -l client-secret-file -d 'File holding the client secret (`mcpca_cs_…`) [default: env MCPCA_CLIENT_SECRET]' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -l format -d 'Print the descriptor alone (`jwt`; `-o json|yaml` prints its envelope) or a `.mcp.json` entry' -r -f -a "jwt\t'The descriptor alone (or its envelope with `-o json|yaml`)'
mcp-json\t'`{"mcpServers":{NAME:{"type":"http","url":…,"headers":{…}}}}`'"
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -l bearer -d 'In the `.mcp.json` entry, send the descriptor as `Authorization: Bearer` instead of `MCP-Connect`'
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l server -d 'The server as registered: NAME (latest version) or NAME@VERSION' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l revocation-wait -d 'How long to keep re-sending the revoked case while the server\'s feed catches up' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l ttl -d 'Lifetime of the probe descriptors [default: 2m]' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l skip -d 'Leave a case out (repeatable), e.g. wrong_server_id for a server that checks no server id' -r -f -a "valid\t'A valid descriptor: 2xx'
missing\t'No descriptor at all'
expired\t'`exp` in the past'
not_yet_valid\t'`nbf` (and `iat`) in the future'
wrong_audience\t'`aud` is another server'
wrong_server_id\t'`mcp.server.id` is another server'
bad_signature\t'Signed with another key under the active key\'s `kid`'
unknown_kid\t'Signed with a key the JWKS does not hold'
alg_none\t'`alg: none`, no signature'
revoked\t'A valid descriptor whose `jti` is in the revocation feed'"
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l bearer -d 'Send descriptors as `Authorization: Bearer` instead of `MCP-Connect`'
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l expect-revocation -d 'The server follows the revocation feed: also send a descriptor whose jti is revoked (without it, that case is skipped)'
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand inspect" -l jwks -d 'Check the signature against this JWKS (file or http(s) URL) instead of the local keys' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand inspect" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand inspect" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand inspect" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand inspect" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand inspect" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand inspect" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand inspect" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand inspect" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand inspect" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand inspect" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l audience -d 'The verifying server\'s own URL (compared in canonical form with `aud`)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l server-id -d 'Also require `mcp.server.id` to be this name' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l issuer -d 'Expected issuer [default: the local authority\'s]' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l jwks -d 'Public keys as a JWKS file (or http(s) URL) [default: the local authority\'s]' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l leeway -d 'Clock leeway [default: 15s]' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l revocations -d 'Also apply a signed revocation feed (the output of `mcpca revocations`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -l jti -d 'One descriptor, by its jti. The feed carries it until that descriptor expires (its `exp` plus the leeway, from the issuance\'s audit event), or for the longest validity when this authority has no record of issuing it' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -l key -d 'A signing key, by its kid (as `mcpca key revoke`)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -l client -d 'A client: suspended, and every descriptor it holds revoked' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -l reason -d 'Why (kept with the revocation)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand revocations" -l since -d 'Only entries after this sequence number' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand revocations" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand revocations" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand revocations" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand revocations" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand revocations" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand revocations" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand revocations" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand revocations" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand revocations" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand revocations" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand revocations" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l since -d 'Events since a duration ago (`1h`) or a time (RFC 3339)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l server -d 'Events about this server (NAME or NAME@VERSION)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l client -d 'Events by or about this client' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l decision -d 'Only issuance decisions that allowed or denied' -r -f -a "allow\t''
deny\t''"
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l limit -d 'The newest N events' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -f -a "verify" -d 'Check the hash chain; exit 1 and name the first broken event if it was tampered with'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -f -a "export" -d 'Write every event as JSON lines'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and not __fish_seen_subcommand_from verify export help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from verify" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from verify" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from verify" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from verify" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from verify" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from verify" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from verify" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from verify" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from export" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from export" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from export" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from export" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from export" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from export" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from export" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from export" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from export" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check the hash chain; exit 1 and name the first broken event if it was tampered with'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write every event as JSON lines'
complete -c mcpca -n "__fish_mcpca_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -s f -l file -d 'The state file, YAML or JSON (`-` for stdin)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -l dry-run -d 'Print and check the plan; change nothing'
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand export" -l out -d 'Write to FILE (never overwrites) instead of stdout; YAML unless `-o json`' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand export" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand export" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand export" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand export" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand export" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand export" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand export" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand export" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand export" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand export" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -l listen -d 'Address to listen on (port 0 picks a free port)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -l issuer -d 'The authority\'s public URL (`iss`), overriding config.yaml and MCPCA_ISSUER' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -l tls-cert -d 'TLS certificate chain (PEM); serves HTTPS with --tls-key' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -l tls-key -d 'TLS private key (PEM)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -l log-format -d 'Log format on stderr' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -l to -d 'The target: a postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL (TLS parameters as for --database-url)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -l force -d 'Replace whatever the target database holds (refused otherwise)'
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -f -a "add" -d 'Name a remote authority: --url and --token-file (the file holding its admin token, mode 0600)'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -f -a "use" -d 'Make a context current (or go back to the local authority with --local)'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -f -a "list" -d 'List contexts; the current one is marked'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -f -a "remove" -d 'Forget a context (its token file is left alone)'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and not __fish_seen_subcommand_from add use list remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from add" -l url -d 'Base URL of the authority (what `mcpca serve` prints)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from add" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from add" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from add" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from add" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from add" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from add" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from add" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from add" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from use" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from use" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from use" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from use" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from use" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from use" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from use" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from use" -l local -d 'No current context: commands manage the local authority again'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from use" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from use" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from use" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from use" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from list" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from list" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from list" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from list" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from list" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from list" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from remove" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from remove" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from remove" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from remove" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from remove" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from remove" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from remove" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from help" -f -a "add" -d 'Name a remote authority: --url and --token-file (the file holding its admin token, mode 0600)'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from help" -f -a "use" -d 'Make a context current (or go back to the local authority with --local)'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from help" -f -a "list" -d 'List contexts; the current one is marked'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Forget a context (its token file is left alone)'
complete -c mcpca -n "__fish_mcpca_using_subcommand context; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand completions" -l home -d 'Keep everything (config, KEK, database) under one folder' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand completions" -l config -d 'Path of config.yaml (default: in --home, or the platform\'s config dir)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand completions" -l database-url -d 'Keep the authority in this PostgreSQL database instead of the home\'s SQLite file' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand completions" -s o -l output -d 'Output format of commands that print data' -r -f -a "table\t'Aligned tables for people'
json\t'JSON, the admin API\'s shapes'
yaml\t'YAML, the same shapes as JSON'"
complete -c mcpca -n "__fish_mcpca_using_subcommand completions" -l registry -d 'Manage the authority at this URL over its admin API (remote mode) instead of the local one' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand completions" -l token -d 'Admin token for remote mode [env: MCPCA_TOKEN]; prefer --token-file (other users can see flags)' -r
complete -c mcpca -n "__fish_mcpca_using_subcommand completions" -l token-file -d 'File holding the admin token for remote mode (and the token file of `context add`)' -r -F
complete -c mcpca -n "__fish_mcpca_using_subcommand completions" -s y -l yes -d 'Answer yes to confirmations (required without a terminal)'
complete -c mcpca -n "__fish_mcpca_using_subcommand completions" -l no-input -d 'Never prompt; fail where a prompt would be needed'
complete -c mcpca -n "__fish_mcpca_using_subcommand completions" -s q -l quiet -d 'Print only data and errors'
complete -c mcpca -n "__fish_mcpca_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "init" -d 'Create the authority: config.yaml, key-encryption key, database, an active and a next key'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "key" -d 'Manage signing keys (next → active → retiring → retired; revoked)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "server" -d 'Register and moderate MCP servers in the registry'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "client" -d 'Manage clients: the principals that ask for descriptors, and their policy'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "token" -d 'Manage admin API tokens (roles admin and reader)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "issue" -d 'Issue a Connect Descriptor for a server (prints the JWT)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "connect" -d 'Ask a remote authority for a descriptor with client credentials (what an MCP client does)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "check" -d 'Probe a live MCP server with valid and broken descriptors: does it verify as DESIGN §3 says?'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "inspect" -d 'Show a descriptor\'s header, claims, times and signature status (never fails on expiry)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "verify" -d 'Verify a descriptor exactly as an MCP server does: exit 0 valid, 1 invalid, 2 cannot check'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "revoke" -d 'Revoke a server (all versions or NAME@VERSION), a descriptor (--jti), a client (--client) or a key (--key)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "revocations" -d 'Print the signed revocation feed (JWS) servers follow; `-o json|yaml|table` shows its entries'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "audit" -d 'Read and check the tamper-evident audit log'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "apply" -d 'Make the authority match a declarative file (servers, statuses, limits, clients): plan, then apply'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "export" -d 'Write the authority\'s servers and clients as a file for `mcpca apply` (never secrets)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "serve" -d 'Run the authority as an HTTP service (connect, JWKS, OAuth, registry API, admin API)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "migrate" -d 'Copy this machine\'s SQLite authority into a PostgreSQL database (for several replicas)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "context" -d 'Name remote authorities and choose the one commands talk to (remote mode)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and not __fish_seen_subcommand_from init key server client token issue connect check inspect verify revoke revocations audit apply export serve migrate context completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "list" -d 'List keys: kid, state, created, activated, retire-at'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "generate" -d 'Create a `next` key: published in the JWKS, not yet signing'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "rotate" -d 'Promote `next` to `active`; the old active key retires once its descriptors have expired'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "retire" -d 'Unpublish a key whose descriptors can no longer be valid (destroys its private half)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "revoke" -d 'Revoke a key at once: unpublished, listed in the revocation feed, private half destroyed'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "export" -d 'Export the public keys (JWKS) or one private key (PKCS#8 PEM)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "add" -d 'Register a server version from flags or from an official server.json (--file)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "list" -d 'List server versions'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "show" -d 'Show one server version (latest unless NAME@VERSION) and its versions'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "update" -d 'Change authority fields (verified, max TTL); published versions are immutable'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "remove" -d 'Mark a server or version deleted (hidden from lists; no descriptors)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "suspend" -d 'Suspend: no descriptors (`policy_blocked`) until resumed'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "resume" -d 'Make a server active again (from suspended, deprecated, removed or revoked)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "deprecate" -d 'Deprecate: still issued for, flagged as deprecated'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "import" -d 'Import many server.json documents: a JSON array, an official list response, or a registry URL'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from client" -f -a "add" -d 'Register a client; prints its secret once (only a hash is kept)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from client" -f -a "list" -d 'List clients'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from client" -f -a "show" -d 'Show one client'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from client" -f -a "update" -d 'Change a client\'s policy (the given fields replace the old ones)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from client" -f -a "suspend" -d 'Suspend a client: its requests are refused (`policy_blocked`)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from client" -f -a "resume" -d 'Resume a suspended client'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from client" -f -a "remove" -d 'Delete a client; descriptors it holds are revoked'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from client" -f -a "rotate-secret" -d 'Give a client a new secret (printed once); the old one stops working at once'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "create" -d 'Create an admin API token; prints it once (only a hash is kept)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "list" -d 'List admin tokens (never the tokens themselves)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "revoke" -d 'Revoke an admin token by its id'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "verify" -d 'Check the hash chain; exit 1 and name the first broken event if it was tampered with'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "export" -d 'Write every event as JSON lines'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from context" -f -a "add" -d 'Name a remote authority: --url and --token-file (the file holding its admin token, mode 0600)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from context" -f -a "use" -d 'Make a context current (or go back to the local authority with --local)'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from context" -f -a "list" -d 'List contexts; the current one is marked'
complete -c mcpca -n "__fish_mcpca_using_subcommand help; and __fish_seen_subcommand_from context" -f -a "remove" -d 'Forget a context (its token file is left alone)'
