
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
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'metallbctl;validate'= {
            cand --format 'Output format'
            cand --target-version 'MetalLB release whose rules apply (v0.6 through v0.12)'
            cand --bgp-mode 'BGP implementation the speaker runs (v0.12): native cannot announce IPv6 or run BFD'
            cand --explain 'Print the documentation of a rule (code such as MLB013, or its name) and exit'
            cand --color 'When to colour output; `auto` colours a terminal unless NO_COLOR is set'
            cand --raw 'Treat every document as a raw configuration body (what goes under data.config)'
            cand --deny-warnings 'Exit with 1 when there are warnings, too'
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
        &'metallbctl;help'= {
            cand validate 'Lint MetalLB configurations offline (files, directories or stdin)'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'metallbctl;help;validate'= {
        }
        &'metallbctl;help;completions'= {
        }
        &'metallbctl;help;help'= {
        }
    ]
    $completions[$command]
}
