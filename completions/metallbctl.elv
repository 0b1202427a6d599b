
use builtin;
use str;

set edit:completion:arg-completer[metallbctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'metallbctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'metallbctl'= {
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand validate 'Lint MetalLB configurations offline (files, directories or stdin)'
            cand convert 'Convert a MetalLB ConfigMap to the custom resources of MetalLB v0.13 and later'
            cand completions 'Print a shell completion script'
            cand bgp 'Run a BGP router (listen) or speaker (announce) for debugging real networks'
            cand lab 'Run the lab: a simulated cluster with a Kubernetes-compatible API'
            cand install 'Install MetalLB (and optionally the test BGP routers) into a cluster and wait for it'
            cand uninstall 'Remove what `install` installed'
            cand controller 'Run MetalLB''s controller: assign addresses to LoadBalancer Services'
            cand speaker 'Run MetalLB''s speaker for one node: announce assigned addresses over BGP'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'metallbctl;validate'= {
            cand --format 'Output format'
            cand --target-version 'MetalLB release whose rules apply: v0.6 through v0.12 read the ConfigMap (default v0.12), v0.13 through v0.16 the custom resources (default v0.16)'
            cand --bgp-mode 'BGP implementation the speaker runs (v0.12): native cannot announce IPv6 or run BFD'
            cand --assignments 'Dry-run against `kubectl get svc -A -o json` output instead of a cluster (for CI jobs without cluster credentials)'
            cand --context 'The kubeconfig context to use with --cluster'
            cand --kubeconfig 'The kubeconfig file to use with --cluster (default: $KUBECONFIG, then ~/.kube/config)'
            cand --configmap 'The running MetalLB ConfigMap, as NAMESPACE/NAME'
            cand --explain 'Print the documentation of a rule (code such as MLB013, or its name) and exit'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand --raw 'Treat every document as a raw configuration body (what goes under data.config)'
            cand --deny-warnings 'Exit with 1 when there are warnings, too'
            cand --cluster 'Dry-run against the live cluster: read the running ConfigMap and every Service through the kubeconfig, and say which services the configuration would break'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;convert'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand --namespace 'Namespace of the objects (default: the ConfigMap''s, else metallb-system)'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;completions'= {
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;bgp'= {
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand listen 'Accept sessions from peers and print sessions and received routes as they change'
            cand announce 'Announce prefixes to a peer until interrupted, then withdraw them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'metallbctl;bgp;listen'= {
            cand --listen 'Address and port to listen on, e.g. 127.0.0.1:1790 or 0.0.0.0:179'
            cand --as 'Our AS number'
            cand --peer 'A peer allowed to connect (the port is ignored: peers are matched by source address)'
            cand --peer-as 'The peers'' AS number: one for all peers, or one per --peer in order'
            cand --router-id 'Router ID; defaults to the listen address when it is a specific IPv4 address'
            cand --hold-time 'Hold time to offer, in seconds: 0 (no keepalives) or at least 3'
            cand --password 'TCP MD5 password (RFC 2385) for all peers'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;bgp;announce'= {
            cand --peer 'The peer to connect to'
            cand --as 'Our AS number'
            cand --peer-as 'The peer''s AS number (equal to --as for iBGP)'
            cand --source 'Local address to connect from'
            cand --next-hop 'Next hop to announce; defaults to our end of the TCP connection'
            cand --local-pref 'LOCAL_PREF (sent on iBGP sessions only; iBGP defaults to 100)'
            cand --community 'A community to attach, as A:B (repeatable)'
            cand --large-community 'A large community to attach, as A:B:C (repeatable)'
            cand --router-id 'Router ID; defaults to the local IPv4 address used to reach the peer'
            cand --hold-time 'Hold time to offer, in seconds: 0 (no keepalives) or at least 3'
            cand --password 'TCP MD5 password (RFC 2385)'
            cand --connect-timeout 'Connect timeout in seconds'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand --one-per-update 'Send one prefix per UPDATE, as MetalLB''s native speaker does'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;bgp;help'= {
            cand listen 'Accept sessions from peers and print sessions and received routes as they change'
            cand announce 'Announce prefixes to a peer until interrupted, then withdraw them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'metallbctl;bgp;help;listen'= {
        }
        &'metallbctl;bgp;help;announce'= {
        }
        &'metallbctl;bgp;help;help'= {
        }
        &'metallbctl;lab'= {
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand up 'Start a lab (in the background unless --foreground) and print its kubeconfig'
            cand down 'Stop a lab; its objects stay for the next `lab up`'
            cand status 'Show a lab''s components, addresses, ports, router sessions and learned routes'
            cand logs 'Print a lab''s logs: the daemon''s, or a component''s (pod, container, role or router)'
            cand reset 'Stop a lab and delete its state, so the next `lab up` starts empty'
            cand apiserver 'Run only the lab''s Kubernetes API server, in the foreground, until Ctrl-C or SIGTERM'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'metallbctl;lab;up'= {
            cand --name 'The lab''s name; several named labs can run at once'
            cand --state-dir 'The lab''s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]'
            cand --topology 'Topology file [default: the last one used, else lab/tutorial.yaml]'
            cand --routers 'Which routers to run'
            cand --port 'API server port [default: the last one if free, else any free port]'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand --foreground 'Run the daemon in this process until Ctrl-C or SIGTERM'
            cand --merge-kubeconfig 'Add a `metallbctl-lab-<name>` context to your kubeconfig (KUBECONFIG or ~/.kube/config)'
            cand --tutorial 'Also install MetalLB and the test routers, apply tutorial-1 and tutorial-2, and show nginx''s EXTERNAL-IP and what each router learned'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;lab;down'= {
            cand --name 'The lab''s name; several named labs can run at once'
            cand --state-dir 'The lab''s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;lab;status'= {
            cand --name 'The lab''s name; several named labs can run at once'
            cand --state-dir 'The lab''s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;lab;logs'= {
            cand --name 'The lab''s name; several named labs can run at once'
            cand --state-dir 'The lab''s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;lab;reset'= {
            cand --name 'The lab''s name; several named labs can run at once'
            cand --state-dir 'The lab''s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;lab;apiserver'= {
            cand --listen 'Address to listen on (loopback only); port 0 picks a free port'
            cand --state-dir 'Directory for persisted objects and the token [default: ~/.local/state/metallbctl/lab]'
            cand --kubeconfig 'Where to write the kubeconfig [default: STATE_DIR/kubeconfig]'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand --log-requests 'Print one line per request (method, URL, status, duration) to stderr'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;lab;help'= {
            cand up 'Start a lab (in the background unless --foreground) and print its kubeconfig'
            cand down 'Stop a lab; its objects stay for the next `lab up`'
            cand status 'Show a lab''s components, addresses, ports, router sessions and learned routes'
            cand logs 'Print a lab''s logs: the daemon''s, or a component''s (pod, container, role or router)'
            cand reset 'Stop a lab and delete its state, so the next `lab up` starts empty'
            cand apiserver 'Run only the lab''s Kubernetes API server, in the foreground, until Ctrl-C or SIGTERM'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'metallbctl;lab;help;up'= {
        }
        &'metallbctl;lab;help;down'= {
        }
        &'metallbctl;lab;help;status'= {
        }
        &'metallbctl;lab;help;logs'= {
        }
        &'metallbctl;lab;help;reset'= {
        }
        &'metallbctl;lab;help;apiserver'= {
        }
        &'metallbctl;lab;help;help'= {
        }
        &'metallbctl;install'= {
            cand --version 'MetalLB image tag to install'
            cand --config 'A MetalLB configuration (ConfigMap YAML or bare config) to apply after a dry run'
            cand --wait 'Wait until the controller and speakers are ready (the default; --wait=false to skip)'
            cand --timeout 'How long to wait for the rollout, e.g. 90s, 2m'
            cand --kubeconfig 'kubeconfig file [default: KUBECONFIG or ~/.kube/config]'
            cand --context 'kubeconfig context [default: the current one]'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand --with-test-router 'Also install the tutorial''s test BGP routers (BIRD and FRR)'
            cand --dry-run 'Show what would change; change nothing'
            cand --force 'Apply the configuration even if the dry run says a service would lose its address'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'metallbctl;uninstall'= {
            cand --with-test-router 'Also remove the test BGP routers'
            cand --kubeconfig 'kubeconfig file [default: KUBECONFIG or ~/.kube/config]'
            cand --context 'kubeconfig context [default: the current one]'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;controller'= {
            cand --namespace 'Namespace of MetalLB''s configuration ConfigMap'
            cand --config 'Name of MetalLB''s configuration ConfigMap'
            cand --kubeconfig 'Kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)'
            cand --context 'Kubeconfig context (default: the current one)'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;speaker'= {
            cand --node 'The Node this speaker runs on'
            cand --node-address 'Source address of BGP sessions and next hop of announced routes; 0.0.0.0 (the default) lets the kernel choose the source and uses each session''s local address as next hop'
            cand --metrics 'Serve Prometheus metrics on this address (e.g. 127.0.0.1:7472)'
            cand --namespace 'Namespace of MetalLB''s configuration ConfigMap'
            cand --config 'Name of MetalLB''s configuration ConfigMap'
            cand --kubeconfig 'Kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)'
            cand --context 'Kubeconfig context (default: the current one)'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand --loopback-only 'Refuse to dial peers outside 127.0.0.0/8 and ::1'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -q 'Say only what is wrong'
            cand --quiet 'Say only what is wrong'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metallbctl;help'= {
            cand validate 'Lint MetalLB configurations offline (files, directories or stdin)'
            cand convert 'Convert a MetalLB ConfigMap to the custom resources of MetalLB v0.13 and later'
            cand completions 'Print a shell completion script'
            cand bgp 'Run a BGP router (listen) or speaker (announce) for debugging real networks'
            cand lab 'Run the lab: a simulated cluster with a Kubernetes-compatible API'
            cand install 'Install MetalLB (and optionally the test BGP routers) into a cluster and wait for it'
            cand uninstall 'Remove what `install` installed'
            cand controller 'Run MetalLB''s controller: assign addresses to LoadBalancer Services'
            cand speaker 'Run MetalLB''s speaker for one node: announce assigned addresses over BGP'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'metallbctl;help;validate'= {
        }
        &'metallbctl;help;convert'= {
        }
        &'metallbctl;help;completions'= {
        }
        &'metallbctl;help;bgp'= {
            cand listen 'Accept sessions from peers and print sessions and received routes as they change'
            cand announce 'Announce prefixes to a peer until interrupted, then withdraw them'
        }
        &'metallbctl;help;bgp;listen'= {
        }
        &'metallbctl;help;bgp;announce'= {
        }
        &'metallbctl;help;lab'= {
            cand up 'Start a lab (in the background unless --foreground) and print its kubeconfig'
            cand down 'Stop a lab; its objects stay for the next `lab up`'
            cand status 'Show a lab''s components, addresses, ports, router sessions and learned routes'
            cand logs 'Print a lab''s logs: the daemon''s, or a component''s (pod, container, role or router)'
            cand reset 'Stop a lab and delete its state, so the next `lab up` starts empty'
            cand apiserver 'Run only the lab''s Kubernetes API server, in the foreground, until Ctrl-C or SIGTERM'
        }
        &'metallbctl;help;lab;up'= {
        }
        &'metallbctl;help;lab;down'= {
        }
        &'metallbctl;help;lab;status'= {
        }
        &'metallbctl;help;lab;logs'= {
        }
        &'metallbctl;help;lab;reset'= {
        }
        &'metallbctl;help;lab;apiserver'= {
        }
        &'metallbctl;help;install'= {
        }
        &'metallbctl;help;uninstall'= {
        }
        &'metallbctl;help;controller'= {
        }
        &'metallbctl;help;speaker'= {
        }
        &'metallbctl;help;help'= {
        }
    ]
    $completions[$command]
}
