# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_metallbctl_global_optspecs
    string join \n color= v/verbose q/quiet h/help V/version
end

function __fish_metallbctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_metallbctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_metallbctl_using_subcommand
    set -l cmd (__fish_metallbctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c metallbctl -n "__fish_metallbctl_needs_command" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_needs_command" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -f -a "validate" -d 'Lint MetalLB configurations offline (files, directories or stdin)'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l format -d 'Output format' -r -f -a "text\t'Human-readable, with the source line and a caret'
json\t'One JSON document (schema in docs/validate.md)'
github\t'GitHub Actions annotations'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
junit\t'JUnit XML, for CI test reports'"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l target-version -d 'MetalLB release whose rules apply (v0.6 through v0.12)' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l bgp-mode -d 'BGP implementation the speaker runs (v0.12): native cannot announce IPv6 or run BFD' -r -f -a "native\t''
frr\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l explain -d 'Print the documentation of a rule (code such as MLB013, or its name) and exit' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l raw -d 'Treat every document as a raw configuration body (what goes under data.config)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l deny-warnings -d 'Exit with 1 when there are warnings, too'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand completions" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand completions" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand completions" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate completions help" -f -a "validate" -d 'Lint MetalLB configurations offline (files, directories or stdin)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
