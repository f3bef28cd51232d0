"""The dashboard's screens: lab (configure and train), model graph, help, compare, modals."""
