"""Model and training: ``config`` (a recipe's settings), ``model`` (the network, its members
averaged in one graph), ``layers`` (the graph's own layers), ``schedule`` (the learning
rate), ``train`` (the training loop and its command), ``runs`` (a run folder and its data),
``evaluate`` (the figures of a split)."""
