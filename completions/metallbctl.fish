complete --keep-order --exclusive --command metallbctl --arguments "(COMPLETE=fish metallbctl -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
