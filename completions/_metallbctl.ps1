
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'metallbctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'metallbctl'
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
        'metallbctl' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Lint MetalLB configurations offline (files, directories or stdin)')
            [CompletionResult]::new('convert', 'convert', [CompletionResultType]::ParameterValue, 'Convert a MetalLB ConfigMap to the custom resources of MetalLB v0.13 and later')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('bgp', 'bgp', [CompletionResultType]::ParameterValue, 'Run a BGP router (listen) or speaker (announce) for debugging real networks')
            [CompletionResult]::new('lab', 'lab', [CompletionResultType]::ParameterValue, 'Run the lab: a simulated cluster with a Kubernetes-compatible API')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install MetalLB (and optionally the test BGP routers) into a cluster and wait for it')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove what `install` installed')
            [CompletionResult]::new('controller', 'controller', [CompletionResultType]::ParameterValue, 'Run MetalLB''s controller: assign addresses to LoadBalancer Services')
            [CompletionResult]::new('speaker', 'speaker', [CompletionResultType]::ParameterValue, 'Run MetalLB''s speaker for one node: announce assigned addresses over BGP')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'metallbctl;validate' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--target-version', '--target-version', [CompletionResultType]::ParameterName, 'MetalLB release whose rules apply: v0.6 through v0.12 read the ConfigMap (default v0.12), v0.13 through v0.16 the custom resources (default v0.16)')
            [CompletionResult]::new('--bgp-mode', '--bgp-mode', [CompletionResultType]::ParameterName, 'BGP implementation the speaker runs (v0.12): native cannot announce IPv6 or run BFD')
            [CompletionResult]::new('--assignments', '--assignments', [CompletionResultType]::ParameterName, 'Dry-run against `kubectl get svc -A -o json` output instead of a cluster (for CI jobs without cluster credentials)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use with --cluster')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'The kubeconfig file to use with --cluster (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--configmap', '--configmap', [CompletionResultType]::ParameterName, 'The running MetalLB ConfigMap, as NAMESPACE/NAME')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Print the documentation of a rule (code such as MLB013, or its name) and exit')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'Treat every document as a raw configuration body (what goes under data.config)')
            [CompletionResult]::new('--deny-warnings', '--deny-warnings', [CompletionResultType]::ParameterName, 'Exit with 1 when there are warnings, too')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Dry-run against the live cluster: read the running ConfigMap and every Service through the kubeconfig, and say which services the configuration would break')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;convert' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the objects (default: the ConfigMap''s, else metallb-system)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;completions' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;bgp' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Accept sessions from peers and print sessions and received routes as they change')
            [CompletionResult]::new('announce', 'announce', [CompletionResultType]::ParameterValue, 'Announce prefixes to a peer until interrupted, then withdraw them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'metallbctl;bgp;listen' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address and port to listen on, e.g. 127.0.0.1:1790 or 0.0.0.0:179')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Our AS number')
            [CompletionResult]::new('--peer', '--peer', [CompletionResultType]::ParameterName, 'A peer allowed to connect (the port is ignored: peers are matched by source address)')
            [CompletionResult]::new('--peer-as', '--peer-as', [CompletionResultType]::ParameterName, 'The peers'' AS number: one for all peers, or one per --peer in order')
            [CompletionResult]::new('--router-id', '--router-id', [CompletionResultType]::ParameterName, 'Router ID; defaults to the listen address when it is a specific IPv4 address')
            [CompletionResult]::new('--hold-time', '--hold-time', [CompletionResultType]::ParameterName, 'Hold time to offer, in seconds: 0 (no keepalives) or at least 3')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'TCP MD5 password (RFC 2385) for all peers')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;bgp;announce' {
            [CompletionResult]::new('--peer', '--peer', [CompletionResultType]::ParameterName, 'The peer to connect to')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Our AS number')
            [CompletionResult]::new('--peer-as', '--peer-as', [CompletionResultType]::ParameterName, 'The peer''s AS number (equal to --as for iBGP)')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Local address to connect from')
            [CompletionResult]::new('--next-hop', '--next-hop', [CompletionResultType]::ParameterName, 'Next hop to announce; defaults to our end of the TCP connection')
            [CompletionResult]::new('--local-pref', '--local-pref', [CompletionResultType]::ParameterName, 'LOCAL_PREF (sent on iBGP sessions only; iBGP defaults to 100)')
            [CompletionResult]::new('--community', '--community', [CompletionResultType]::ParameterName, 'A community to attach, as A:B (repeatable)')
            [CompletionResult]::new('--large-community', '--large-community', [CompletionResultType]::ParameterName, 'A large community to attach, as A:B:C (repeatable)')
            [CompletionResult]::new('--router-id', '--router-id', [CompletionResultType]::ParameterName, 'Router ID; defaults to the local IPv4 address used to reach the peer')
            [CompletionResult]::new('--hold-time', '--hold-time', [CompletionResultType]::ParameterName, 'Hold time to offer, in seconds: 0 (no keepalives) or at least 3')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'TCP MD5 password (RFC 2385)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Connect timeout in seconds')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--one-per-update', '--one-per-update', [CompletionResultType]::ParameterName, 'Send one prefix per UPDATE, as MetalLB''s native speaker does')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;bgp;help' {
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Accept sessions from peers and print sessions and received routes as they change')
            [CompletionResult]::new('announce', 'announce', [CompletionResultType]::ParameterValue, 'Announce prefixes to a peer until interrupted, then withdraw them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'metallbctl;bgp;help;listen' {
            break
        }
        'metallbctl;bgp;help;announce' {
            break
        }
        'metallbctl;bgp;help;help' {
            break
        }
        'metallbctl;lab' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Start a lab (in the background unless --foreground) and print its kubeconfig')
            [CompletionResult]::new('down', 'down', [CompletionResultType]::ParameterValue, 'Stop a lab; its objects stay for the next `lab up`')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show a lab''s components, addresses, ports, router sessions and learned routes')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print a lab''s logs: the daemon''s, or a component''s (pod, container, role or router)')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Stop a lab and delete its state, so the next `lab up` starts empty')
            [CompletionResult]::new('apiserver', 'apiserver', [CompletionResultType]::ParameterValue, 'Run only the lab''s Kubernetes API server, in the foreground, until Ctrl-C or SIGTERM')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'metallbctl;lab;up' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The lab''s name; several named labs can run at once')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The lab''s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]')
            [CompletionResult]::new('--topology', '--topology', [CompletionResultType]::ParameterName, 'Topology file [default: the last one used, else lab/tutorial.yaml]')
            [CompletionResult]::new('--routers', '--routers', [CompletionResultType]::ParameterName, 'Which routers to run')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'API server port [default: the last one if free, else any free port]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--foreground', '--foreground', [CompletionResultType]::ParameterName, 'Run the daemon in this process until Ctrl-C or SIGTERM')
            [CompletionResult]::new('--merge-kubeconfig', '--merge-kubeconfig', [CompletionResultType]::ParameterName, 'Add a `metallbctl-lab-<name>` context to your kubeconfig (KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--tutorial', '--tutorial', [CompletionResultType]::ParameterName, 'Also install MetalLB and the test routers, apply tutorial-1 and tutorial-2, and show nginx''s EXTERNAL-IP and what each router learned')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;lab;down' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The lab''s name; several named labs can run at once')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The lab''s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;lab;status' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The lab''s name; several named labs can run at once')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The lab''s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;lab;logs' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The lab''s name; several named labs can run at once')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The lab''s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;lab;reset' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The lab''s name; several named labs can run at once')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The lab''s state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;lab;apiserver' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (loopback only); port 0 picks a free port')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory for persisted objects and the token [default: ~/.local/state/metallbctl/lab]')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Where to write the kubeconfig [default: STATE_DIR/kubeconfig]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--log-requests', '--log-requests', [CompletionResultType]::ParameterName, 'Print one line per request (method, URL, status, duration) to stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;lab;help' {
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Start a lab (in the background unless --foreground) and print its kubeconfig')
            [CompletionResult]::new('down', 'down', [CompletionResultType]::ParameterValue, 'Stop a lab; its objects stay for the next `lab up`')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show a lab''s components, addresses, ports, router sessions and learned routes')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print a lab''s logs: the daemon''s, or a component''s (pod, container, role or router)')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Stop a lab and delete its state, so the next `lab up` starts empty')
            [CompletionResult]::new('apiserver', 'apiserver', [CompletionResultType]::ParameterValue, 'Run only the lab''s Kubernetes API server, in the foreground, until Ctrl-C or SIGTERM')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'metallbctl;lab;help;up' {
            break
        }
        'metallbctl;lab;help;down' {
            break
        }
        'metallbctl;lab;help;status' {
            break
        }
        'metallbctl;lab;help;logs' {
            break
        }
        'metallbctl;lab;help;reset' {
            break
        }
        'metallbctl;lab;help;apiserver' {
            break
        }
        'metallbctl;lab;help;help' {
            break
        }
        'metallbctl;install' {
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'MetalLB image tag to install')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'A MetalLB configuration (ConfigMap YAML or bare config) to apply after a dry run')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until the controller and speakers are ready (the default; --wait=false to skip)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the rollout, e.g. 90s, 2m')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'kubeconfig file [default: KUBECONFIG or ~/.kube/config]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'kubeconfig context [default: the current one]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--with-test-router', '--with-test-router', [CompletionResultType]::ParameterName, 'Also install the tutorial''s test BGP routers (BIRD and FRR)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change; change nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Apply the configuration even if the dry run says a service would lose its address')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'metallbctl;uninstall' {
            [CompletionResult]::new('--with-test-router', '--with-test-router', [CompletionResultType]::ParameterName, 'Also remove the test BGP routers')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'kubeconfig file [default: KUBECONFIG or ~/.kube/config]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'kubeconfig context [default: the current one]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;controller' {
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of MetalLB''s configuration ConfigMap')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Name of MetalLB''s configuration ConfigMap')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context (default: the current one)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;speaker' {
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'The Node this speaker runs on')
            [CompletionResult]::new('--node-address', '--node-address', [CompletionResultType]::ParameterName, 'Source address of BGP sessions and next hop of announced routes; 0.0.0.0 (the default) lets the kernel choose the source and uses each session''s local address as next hop')
            [CompletionResult]::new('--metrics', '--metrics', [CompletionResultType]::ParameterName, 'Serve Prometheus metrics on this address (e.g. 127.0.0.1:7472)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of MetalLB''s configuration ConfigMap')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Name of MetalLB''s configuration ConfigMap')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context (default: the current one)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; `auto` colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--loopback-only', '--loopback-only', [CompletionResultType]::ParameterName, 'Refuse to dial peers outside 127.0.0.0/8 and ::1')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say only what is wrong')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'metallbctl;help' {
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Lint MetalLB configurations offline (files, directories or stdin)')
            [CompletionResult]::new('convert', 'convert', [CompletionResultType]::ParameterValue, 'Convert a MetalLB ConfigMap to the custom resources of MetalLB v0.13 and later')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('bgp', 'bgp', [CompletionResultType]::ParameterValue, 'Run a BGP router (listen) or speaker (announce) for debugging real networks')
            [CompletionResult]::new('lab', 'lab', [CompletionResultType]::ParameterValue, 'Run the lab: a simulated cluster with a Kubernetes-compatible API')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install MetalLB (and optionally the test BGP routers) into a cluster and wait for it')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove what `install` installed')
            [CompletionResult]::new('controller', 'controller', [CompletionResultType]::ParameterValue, 'Run MetalLB''s controller: assign addresses to LoadBalancer Services')
            [CompletionResult]::new('speaker', 'speaker', [CompletionResultType]::ParameterValue, 'Run MetalLB''s speaker for one node: announce assigned addresses over BGP')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'metallbctl;help;validate' {
            break
        }
        'metallbctl;help;convert' {
            break
        }
        'metallbctl;help;completions' {
            break
        }
        'metallbctl;help;bgp' {
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Accept sessions from peers and print sessions and received routes as they change')
            [CompletionResult]::new('announce', 'announce', [CompletionResultType]::ParameterValue, 'Announce prefixes to a peer until interrupted, then withdraw them')
            break
        }
        'metallbctl;help;bgp;listen' {
            break
        }
        'metallbctl;help;bgp;announce' {
            break
        }
        'metallbctl;help;lab' {
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Start a lab (in the background unless --foreground) and print its kubeconfig')
            [CompletionResult]::new('down', 'down', [CompletionResultType]::ParameterValue, 'Stop a lab; its objects stay for the next `lab up`')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show a lab''s components, addresses, ports, router sessions and learned routes')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print a lab''s logs: the daemon''s, or a component''s (pod, container, role or router)')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Stop a lab and delete its state, so the next `lab up` starts empty')
            [CompletionResult]::new('apiserver', 'apiserver', [CompletionResultType]::ParameterValue, 'Run only the lab''s Kubernetes API server, in the foreground, until Ctrl-C or SIGTERM')
            break
        }
        'metallbctl;help;lab;up' {
            break
        }
        'metallbctl;help;lab;down' {
            break
        }
        'metallbctl;help;lab;status' {
            break
        }
        'metallbctl;help;lab;logs' {
            break
        }
        'metallbctl;help;lab;reset' {
            break
        }
        'metallbctl;help;lab;apiserver' {
            break
        }
        'metallbctl;help;install' {
            break
        }
        'metallbctl;help;uninstall' {
            break
        }
        'metallbctl;help;controller' {
            break
        }
        'metallbctl;help;speaker' {
            break
        }
        'metallbctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
