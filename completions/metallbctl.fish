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
complete -c metallbctl -n "__fish_metallbctl_needs_command" -f -a "convert" -d 'Convert a MetalLB ConfigMap to the custom resources of MetalLB v0.13 and later'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -f -a "bgp" -d 'Run a BGP router (listen) or speaker (announce) for debugging real networks'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -f -a "lab" -d 'Run the lab: a simulated cluster with a Kubernetes-compatible API'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -f -a "install" -d 'Install MetalLB (and optionally the test BGP routers) into a cluster and wait for it'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -f -a "uninstall" -d 'Remove what `install` installed'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -f -a "controller" -d 'Run MetalLB\'s controller: assign addresses to LoadBalancer Services'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -f -a "speaker" -d 'Run MetalLB\'s speaker for one node: announce assigned addresses over BGP'
complete -c metallbctl -n "__fish_metallbctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l format -d 'Output format' -r -f -a "text\t'Human-readable, with the source line and a caret'
json\t'One JSON document (schema in docs/validate.md)'
github\t'GitHub Actions annotations'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
junit\t'JUnit XML, for CI test reports'"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l target-version -d 'MetalLB release whose rules apply: v0.6 through v0.12 read the ConfigMap (default v0.12), v0.13 through v0.16 the custom resources (default v0.16)' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l bgp-mode -d 'BGP implementation the speaker runs (v0.12): native cannot announce IPv6 or run BFD' -r -f -a "native\t''
frr\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l assignments -d 'Dry-run against `kubectl get svc -A -o json` output instead of a cluster (for CI jobs without cluster credentials)' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l context -d 'The kubeconfig context to use with --cluster' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l kubeconfig -d 'The kubeconfig file to use with --cluster (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l configmap -d 'The running MetalLB ConfigMap, as NAMESPACE/NAME' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l explain -d 'Print the documentation of a rule (code such as MLB013, or its name) and exit' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l raw -d 'Treat every document as a raw configuration body (what goes under data.config)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l deny-warnings -d 'Exit with 1 when there are warnings, too'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -l cluster -d 'Dry-run against the live cluster: read the running ConfigMap and every Service through the kubeconfig, and say which services the configuration would break'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand validate" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand convert" -s o -l output -d 'Output format' -r -f -a "yaml\t'YAML documents, as configmaptocrs writes them'
json\t'One JSON `v1` List'"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand convert" -l namespace -d 'Namespace of the objects (default: the ConfigMap\'s, else metallb-system)' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand convert" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand convert" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand convert" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand convert" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand convert" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand completions" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand completions" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand completions" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and not __fish_seen_subcommand_from listen announce help" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and not __fish_seen_subcommand_from listen announce help" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and not __fish_seen_subcommand_from listen announce help" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and not __fish_seen_subcommand_from listen announce help" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and not __fish_seen_subcommand_from listen announce help" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and not __fish_seen_subcommand_from listen announce help" -f -a "listen" -d 'Accept sessions from peers and print sessions and received routes as they change'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and not __fish_seen_subcommand_from listen announce help" -f -a "announce" -d 'Announce prefixes to a peer until interrupted, then withdraw them'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and not __fish_seen_subcommand_from listen announce help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -l listen -d 'Address and port to listen on, e.g. 127.0.0.1:1790 or 0.0.0.0:179' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -l as -d 'Our AS number' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -l peer -d 'A peer allowed to connect (the port is ignored: peers are matched by source address)' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -l peer-as -d 'The peers\' AS number: one for all peers, or one per --peer in order' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -l router-id -d 'Router ID; defaults to the listen address when it is a specific IPv4 address' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -l hold-time -d 'Hold time to offer, in seconds: 0 (no keepalives) or at least 3' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -l password -d 'TCP MD5 password (RFC 2385) for all peers' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from listen" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l peer -d 'The peer to connect to' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l as -d 'Our AS number' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l peer-as -d 'The peer\'s AS number (equal to --as for iBGP)' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l source -d 'Local address to connect from' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l next-hop -d 'Next hop to announce; defaults to our end of the TCP connection' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l local-pref -d 'LOCAL_PREF (sent on iBGP sessions only; iBGP defaults to 100)' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l community -d 'A community to attach, as A:B (repeatable)' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l large-community -d 'A large community to attach, as A:B:C (repeatable)' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l router-id -d 'Router ID; defaults to the local IPv4 address used to reach the peer' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l hold-time -d 'Hold time to offer, in seconds: 0 (no keepalives) or at least 3' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l password -d 'TCP MD5 password (RFC 2385)' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l connect-timeout -d 'Connect timeout in seconds' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -l one-per-update -d 'Send one prefix per UPDATE, as MetalLB\'s native speaker does'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from announce" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from help" -f -a "listen" -d 'Accept sessions from peers and print sessions and received routes as they change'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from help" -f -a "announce" -d 'Announce prefixes to a peer until interrupted, then withdraw them'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand bgp; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and not __fish_seen_subcommand_from up down status logs reset apiserver help" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and not __fish_seen_subcommand_from up down status logs reset apiserver help" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and not __fish_seen_subcommand_from up down status logs reset apiserver help" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and not __fish_seen_subcommand_from up down status logs reset apiserver help" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and not __fish_seen_subcommand_from up down status logs reset apiserver help" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and not __fish_seen_subcommand_from up down status logs reset apiserver help" -f -a "up" -d 'Start a lab (in the background unless --foreground) and print its kubeconfig'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and not __fish_seen_subcommand_from up down status logs reset apiserver help" -f -a "down" -d 'Stop a lab; its objects stay for the next `lab up`'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and not __fish_seen_subcommand_from up down status logs reset apiserver help" -f -a "status" -d 'Show a lab\'s components, addresses, ports, router sessions and learned routes'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and not __fish_seen_subcommand_from up down status logs reset apiserver help" -f -a "logs" -d 'Print a lab\'s logs: the daemon\'s, or a component\'s (pod, container, role or router)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and not __fish_seen_subcommand_from up down status logs reset apiserver help" -f -a "reset" -d 'Stop a lab and delete its state, so the next `lab up` starts empty'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and not __fish_seen_subcommand_from up down status logs reset apiserver help" -f -a "apiserver" -d 'Run only the lab\'s Kubernetes API server, in the foreground, until Ctrl-C or SIGTERM'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and not __fish_seen_subcommand_from up down status logs reset apiserver help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l name -d 'The lab\'s name; several named labs can run at once' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l state-dir -d 'The lab\'s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l topology -d 'Topology file [default: the last one used, else lab/tutorial.yaml]' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l routers -d 'Which routers to run' -r -f -a "builtin\t'metallbctl\'s own BGP router'
real\t'BIRD 2 and FRR (apt-get install -y bird2 frr)'"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l port -d 'API server port [default: the last one if free, else any free port]' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l foreground -d 'Run the daemon in this process until Ctrl-C or SIGTERM'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l merge-kubeconfig -d 'Add a `metallbctl-lab-<name>` context to your kubeconfig (KUBECONFIG or ~/.kube/config)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l tutorial -d 'Also install MetalLB and the test routers, apply tutorial-1 and tutorial-2, and show nginx\'s EXTERNAL-IP and what each router learned'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from up" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l name -d 'The lab\'s name; several named labs can run at once' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l state-dir -d 'The lab\'s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from down" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from down" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from down" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from down" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l name -d 'The lab\'s name; several named labs can run at once' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l state-dir -d 'The lab\'s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from logs" -l name -d 'The lab\'s name; several named labs can run at once' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from logs" -l state-dir -d 'The lab\'s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from logs" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from logs" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from logs" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from logs" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from logs" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from reset" -l name -d 'The lab\'s name; several named labs can run at once' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from reset" -l state-dir -d 'The lab\'s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from reset" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from reset" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from reset" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from reset" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from reset" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from apiserver" -l listen -d 'Address to listen on (loopback only); port 0 picks a free port' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from apiserver" -l state-dir -d 'Directory for persisted objects and the token [default: ~/.local/state/metallbctl/lab]' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from apiserver" -l kubeconfig -d 'Where to write the kubeconfig [default: STATE_DIR/kubeconfig]' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from apiserver" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from apiserver" -l log-requests -d 'Print one line per request (method, URL, status, duration) to stderr'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from apiserver" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from apiserver" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from apiserver" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from apiserver" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "up" -d 'Start a lab (in the background unless --foreground) and print its kubeconfig'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "down" -d 'Stop a lab; its objects stay for the next `lab up`'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show a lab\'s components, addresses, ports, router sessions and learned routes'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "logs" -d 'Print a lab\'s logs: the daemon\'s, or a component\'s (pod, container, role or router)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "reset" -d 'Stop a lab and delete its state, so the next `lab up` starts empty'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "apiserver" -d 'Run only the lab\'s Kubernetes API server, in the foreground, until Ctrl-C or SIGTERM'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -l version -d 'MetalLB image tag to install' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -l config -d 'A MetalLB configuration (ConfigMap YAML or bare config) to apply after a dry run' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -l wait -d 'Wait until the controller and speakers are ready (the default; --wait=false to skip)' -r -f -a "true\t''
false\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -l timeout -d 'How long to wait for the rollout, e.g. 90s, 2m' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -l kubeconfig -d 'kubeconfig file [default: KUBECONFIG or ~/.kube/config]' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -l context -d 'kubeconfig context [default: the current one]' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -l with-test-router -d 'Also install the tutorial\'s test BGP routers (BIRD and FRR)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -l dry-run -d 'Show what would change; change nothing'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -l force -d 'Apply the configuration even if the dry run says a service would lose its address'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand install" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand uninstall" -l with-test-router -d 'Also remove the test BGP routers' -r -f -a "true\t''
false\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand uninstall" -l kubeconfig -d 'kubeconfig file [default: KUBECONFIG or ~/.kube/config]' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand uninstall" -l context -d 'kubeconfig context [default: the current one]' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand uninstall" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand uninstall" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand uninstall" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand uninstall" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand uninstall" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand controller" -l namespace -d 'Namespace of MetalLB\'s configuration ConfigMap' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand controller" -l config -d 'Name of MetalLB\'s configuration ConfigMap' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand controller" -l kubeconfig -d 'Kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand controller" -l context -d 'Kubeconfig context (default: the current one)' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand controller" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand controller" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand controller" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand controller" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand controller" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -l node -d 'The Node this speaker runs on' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -l node-address -d 'Source address of BGP sessions and next hop of announced routes; 0.0.0.0 (the default) lets the kernel choose the source and uses each session\'s local address as next hop' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -l metrics -d 'Serve Prometheus metrics on this address (e.g. 127.0.0.1:7472)' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -l namespace -d 'Namespace of MetalLB\'s configuration ConfigMap' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -l config -d 'Name of MetalLB\'s configuration ConfigMap' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -l kubeconfig -d 'Kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)' -r -F
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -l context -d 'Kubeconfig context (default: the current one)' -r
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -l color -d 'When to colour output; `auto` colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -l loopback-only -d 'Refuse to dial peers outside 127.0.0.0/8 and ::1'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -s q -l quiet -d 'Say only what is wrong'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -s h -l help -d 'Print help'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand speaker" -s V -l version -d 'Print version'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate convert completions bgp lab install uninstall controller speaker help" -f -a "validate" -d 'Lint MetalLB configurations offline (files, directories or stdin)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate convert completions bgp lab install uninstall controller speaker help" -f -a "convert" -d 'Convert a MetalLB ConfigMap to the custom resources of MetalLB v0.13 and later'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate convert completions bgp lab install uninstall controller speaker help" -f -a "completions" -d 'Print a shell completion script'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate convert completions bgp lab install uninstall controller speaker help" -f -a "bgp" -d 'Run a BGP router (listen) or speaker (announce) for debugging real networks'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate convert completions bgp lab install uninstall controller speaker help" -f -a "lab" -d 'Run the lab: a simulated cluster with a Kubernetes-compatible API'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate convert completions bgp lab install uninstall controller speaker help" -f -a "install" -d 'Install MetalLB (and optionally the test BGP routers) into a cluster and wait for it'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate convert completions bgp lab install uninstall controller speaker help" -f -a "uninstall" -d 'Remove what `install` installed'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate convert completions bgp lab install uninstall controller speaker help" -f -a "controller" -d 'Run MetalLB\'s controller: assign addresses to LoadBalancer Services'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate convert completions bgp lab install uninstall controller speaker help" -f -a "speaker" -d 'Run MetalLB\'s speaker for one node: announce assigned addresses over BGP'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and not __fish_seen_subcommand_from validate convert completions bgp lab install uninstall controller speaker help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and __fish_seen_subcommand_from bgp" -f -a "listen" -d 'Accept sessions from peers and print sessions and received routes as they change'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and __fish_seen_subcommand_from bgp" -f -a "announce" -d 'Announce prefixes to a peer until interrupted, then withdraw them'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "up" -d 'Start a lab (in the background unless --foreground) and print its kubeconfig'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "down" -d 'Stop a lab; its objects stay for the next `lab up`'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "status" -d 'Show a lab\'s components, addresses, ports, router sessions and learned routes'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "logs" -d 'Print a lab\'s logs: the daemon\'s, or a component\'s (pod, container, role or router)'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "reset" -d 'Stop a lab and delete its state, so the next `lab up` starts empty'
complete -c metallbctl -n "__fish_metallbctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "apiserver" -d 'Run only the lab\'s Kubernetes API server, in the foreground, until Ctrl-C or SIGTERM'
